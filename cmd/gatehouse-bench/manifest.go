package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Shape is the size of a seeded dataset: every account has the same.
type Shape struct {
	Accounts    int `json:"accounts"`
	Roles       int `json:"roles"`
	Members     int `json:"members"`
	Permissions int `json:"permissions"`
}

func (s Shape) String() string {
	return fmt.Sprintf("%d accounts × %d roles × %d members × %d permissions", s.Accounts, s.Roles, s.Members, s.Permissions)
}

// Manifest is what the seed leaves for the load phase: where the data is,
// and the ids and secrets the workloads need. It holds live secrets of a
// throw-away database; it is written 0600 next to that database.
type Manifest struct {
	Dialect string `json:"dialect"` // "sqlite" or "postgres"
	// Database is the SQLite file, or the URL of the PostgreSQL database
	// the seed created.
	Database string        `json:"database"`
	Shape    Shape         `json:"shape"`
	SeededIn time.Duration `json:"seededIn"`
	// Operator is an operator key's secret; JWTSecret the HS256 secret the
	// server must be started with so that the owners' JWTs verify.
	Operator    string    `json:"operator"`
	JWTSecret   string    `json:"jwtSecret"`
	Permissions []string  `json:"permissions"` // the catalog keys of the shape
	Accounts    []Account `json:"accounts"`
}

// Account is one seeded account.
type Account struct {
	ID string `json:"id"`
	// Decider is an API key holding only iam.authorize (what a product's
	// backend uses); Admin a key holding the owner's whole permission set
	// (for writes).
	Decider    string   `json:"decider"`
	Admin      string   `json:"admin"`
	OwnerEmail string   `json:"ownerEmail"`
	Members    []string `json:"members"` // member ids, the owner first
}

func (m *Manifest) save(path string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func loadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	if len(m.Accounts) == 0 {
		return nil, fmt.Errorf("manifest %s: no accounts", path)
	}
	return &m, nil
}

package apitest

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The Convrs suite walks through seeds/004 (Convrs' Roles and Permissions) on
// an account created from the `convrs` template (A5).

// tlConvrsGroups is the document's permission reference, by functional area.
var tlConvrsGroups = map[string][]string{
	"Administration": {"AdminBusinessUnit", "AdminChatCategorization", "AdminOrganization", "AdminRolesAndPermissions",
		"OrganizationDashboard", "Reports", "TagManagement"},
	"Agent Management": {"AgentManagementAddAgent", "AgentManagementAgentStatus", "AgentManagementBotChatHistory",
		"AgentManagementBulkAdd", "AgentManagementChatHistory", "AgentManagementEditAgent", "AgentManagementReplies",
		"AgentManagementUserChatHistory", "AgentProfileEditing", "TeamStatus"},
	"Chat": {"AcceptWaiting", "AgentChat", "AgentChatAllowCloseAll", "AgentChatAllowOwnReplies", "AgentChatAllowTransfer",
		"AgentChatAllowTranslate", "AgentChatAllowUserPanel", "AgentChatDeleteMessage", "AgentSupervise",
		"AgentSuperviseSeeAllChats", "AgentViewBotLog", "ChatsAll", "ChatsMy"},
	"User Management": {"AgentBlockUser", "AgentUnblockUser", "DeleteUser", "TagAddRemove", "UnstickUser", "Users"},
	"Bot and Flow":    {"BotsCreate", "BotsShowAll", "FAQ", "FlowCreate", "FlowEdit", "FlowShowAll", "FlowViewLog", "KnowledgeBase"},
	"Channel and Integration": {"Integration360Dialog", "IntegrationFacebook", "IntegrationSalesforce", "ManagePhones",
		"SalesForce", "WebWidget"},
	// The document's WhatsApp outbound row has no permission name; the template names it WhatsAppOutbound.
	"Messaging": {"Campaign", "Publish", "SMSOutbound", "WhatsAppOutbound", "WhatsAppAPI"},
	"Advanced":  {"AIWritingAssistant", "ConvrsAPI", "NativeApp", "Portal"},
}

// tlConvrsAgent is the template's Agent role: chats and customer interactions.
var tlConvrsAgent = []string{"AgentChat", "AcceptWaiting", "AgentChatAllowCloseAll", "AgentChatAllowOwnReplies",
	"AgentChatAllowTransfer", "AgentChatAllowTranslate", "AgentChatAllowUserPanel", "AgentViewBotLog", "ChatsMy",
	"TagAddRemove", "AgentProfileEditing", "TeamStatus"}

// tlConvrsAdmin adds an agent holding the Admin role and returns its member id and JWT.
func tlConvrsAdmin(e *env, a templateAccount, email string) (string, string) {
	e.t.Helper()
	return e.addMember(a.Owner, a.ID, email, a.Roles["admin"]), userToken(e.t, email)
}

// K1: the master list comes with the document's functional areas; an admin
// (AdminRolesAndPermissions → iam.permissions.read) lists them by group.
func TestConvrs_PermissionsByFunctionalArea(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("convrs", "cv-groups")
		_, admin := tlConvrsAdmin(e, a, "ada@cv-groups.test")
		r := e.ok(admin, `query($id: ID!) { account(id: $id) { permissions(first: 100, orderBy: {field: GROUP}) { totalCount edges { node { key group description } } } } }`,
			map[string]any{"id": a.ID})
		got := map[string][]string{}
		for _, n := range r.Get("data.account.permissions.edges.#.node").Array() {
			key := n.Get("key").String()
			if strings.HasPrefix(key, "iam.") {
				continue
			}
			if n.Get("description").String() == "" {
				t.Errorf("%s has no description", key)
			}
			got[n.Get("group").String()] = append(got[n.Get("group").String()], key)
		}
		var groups []string
		for g := range got {
			groups = append(groups, g)
		}
		var want []string
		for g := range tlConvrsGroups {
			want = append(want, g)
		}
		sameStrings(t, "functional areas", groups, want)
		for g, keys := range tlConvrsGroups {
			sameStrings(t, "group "+g, got[g], keys)
		}
		if n := r.Get("data.account.permissions.totalCount").Int(); n != int64(59+len(builtinPermissions)) {
			t.Errorf("master list: %d permissions, want the document's 59 and %d built-in", n, len(builtinPermissions))
		}
		// One functional area, as a dashboard lists it.
		r = e.ok(admin, `query($id: ID!) { account(id: $id) { permissions(first: 100, where: {group: "Chat"}) { edges { node { key description } } } } }`,
			map[string]any{"id": a.ID})
		sameStrings(t, "the Chat area", gjsonStrings(r.Get("data.account.permissions.edges.#.node.key").Array()), tlConvrsGroups["Chat"])
		if d := r.Get(`data.account.permissions.edges.#(node.key=="AgentChat").node.description`).String(); d != "Allows to accept and respond to chats" {
			t.Errorf("AgentChat's description: %q", d)
		}
		// The operator's catalog carries the same grouping.
		r = e.ok(e.Operator, `{ permissionCatalog(first: 100) { edges { node { key group } } } }`, nil)
		if g := r.Get(`data.permissionCatalog.edges.#(node.key=="AgentChat").node.group`).String(); g != "Chat" {
			t.Errorf("catalog group of AgentChat: %q", g)
		}
		// An agent cannot read the master list.
		e.addMember(a.Owner, a.ID, "aaron@cv-groups.test", a.Roles["agent"])
		e.fails("FORBIDDEN", userToken(t, "aaron@cv-groups.test"), `query($id: ID!) { account(id: $id) { permissions(first: 1) { totalCount } } }`, map[string]any{"id": a.ID})
	})
}

// A2 MULTIPLE: "Each agent is assigned one or more roles, and inherits all
// permissions associated with those roles" — Support Agent and Admin are
// assigned separately rather than merged into one role.
func TestConvrs_SeveralRolesPerAgent(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("convrs", "cv-multi")
		r := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { settings { roleAssignment } } }`, map[string]any{"id": a.ID})
		if r.Get("data.account.settings.roleAssignment").String() != "MULTIPLE" {
			t.Fatalf("settings: %s", r)
		}
		supervisor := e.createRole(a.Owner, a.ID, "Supervision", []string{"AgentSupervise", "AgentSuperviseSeeAllChats", "ChatsAll"})
		m := e.addMember(a.Owner, a.ID, "lena@cv-multi.test", a.Roles["agent"], supervisor)
		sameStrings(t, "Agent and Supervision", e.permissionsOf(m), append([]string{"AgentSupervise", "AgentSuperviseSeeAllChats", "ChatsAll"}, tlConvrsAgent...))
		tok := userToken(t, "lena@cv-multi.test")
		for p, role := range map[string]string{"AgentChat": "agent", "AgentSupervise": "supervision"} {
			d := e.decide(tok, map[string]any{"accountId": a.ID, "permission": p}).Get("data.authorize")
			if !d.Get("allowed").Bool() || d.Get("grantedBy.roleKey").String() != role {
				t.Errorf("%s through %s: %s", p, role, d)
			}
		}
		// Agent, Supervision and Admin at once; then back to Agent alone.
		r = e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleIds": []string{a.Roles["agent"], supervisor, a.Roles["admin"]}}})
		sameStrings(t, "three roles", gjsonStrings(r.Get("data.setMemberRoles.member.roles.#.key").Array()), []string{"agent", "supervision", "admin"})
		if p := e.permissionsOf(m); !contains(p, "AdminRolesAndPermissions") || !contains(p, "AgentSupervise") || !contains(p, "iam.roles.manage") {
			t.Errorf("admin's permissions missing: %v", p)
		}
		e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleKeys": []string{"agent"}}})
		sameStrings(t, "Agent alone", e.permissionsOf(m), tlConvrsAgent)
	})
}

// "You can use these default roles as-is, modify their permissions, or create
// custom roles" (R4): Admin and Agent are editable custom roles; an update
// takes effect for every holder at once, and carries expectedVersion. The
// account's owner holds full_access, Gatehouse's locked owner role (M3),
// named Owner; Convrs has no other system role.
func TestConvrs_DefaultRolesEditable(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("convrs", "cv-edit")
		r := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { roles(first: 100, orderBy: {field: POSITION}) { edges { node { key name kind version } } } } }`,
			map[string]any{"id": a.ID})
		var roles []string
		for _, n := range r.Get("data.account.roles.edges.#.node").Array() {
			roles = append(roles, n.Get("key").String()+":"+n.Get("kind").String())
		}
		if want := []string{"full_access:SYSTEM", "admin:CUSTOM", "agent:CUSTOM"}; !slices.Equal(roles, want) {
			t.Fatalf("roles: %v, want %v", roles, want)
		}
		sameStrings(t, "Agent role", e.roleEffective(a.Owner, a.ID, "agent"), tlConvrsAgent)

		_, admin := tlConvrsAdmin(e, a, "ada@cv-edit.test")
		agent := e.addMember(a.Owner, a.ID, "aaron@cv-edit.test", a.Roles["agent"])
		agentTok := userToken(t, "aaron@cv-edit.test")
		// An Admin edits the Agent role with the dual list.
		r = e.ok(admin, updateRole, map[string]any{"in": map[string]any{"roleId": a.Roles["agent"], "expectedVersion": 1,
			"addGrants": []string{"AgentChatDeleteMessage"}, "removeGrants": []string{"AgentChatAllowTranslate"}}})
		if r.Get("data.updateRole.role.version").Int() != 2 {
			t.Fatalf("update: %s", r)
		}
		want := append(slices.DeleteFunc(slices.Clone(tlConvrsAgent), func(s string) bool { return s == "AgentChatAllowTranslate" }), "AgentChatDeleteMessage")
		sameStrings(t, "Agent after the edit", gjsonStrings(r.Get("data.updateRole.role.grants").Array()), want)
		sameStrings(t, "the holder at once", e.permissionsOf(agent), want)
		if d := e.decide(agentTok, map[string]any{"accountId": a.ID, "permission": "AgentChatDeleteMessage"}).Get("data.authorize"); !d.Get("allowed").Bool() {
			t.Errorf("newly granted permission: %s", d)
		}
		if d := e.decide(agentTok, map[string]any{"accountId": a.ID, "permission": "AgentChatAllowTranslate"}).Get("data.authorize"); d.Get("allowed").Bool() || d.Get("reason").String() != "NOT_GRANTED" {
			t.Errorf("removed permission: %s", d)
		}
		// A second admin working from version 1 loses, and changes nothing.
		r = e.fails("VERSION_CONFLICT", a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": a.Roles["agent"], "expectedVersion": 1, "grants": []string{"AgentChat"}}})
		if r.Get("errors.0.extensions.currentVersion").Int() != 2 {
			t.Errorf("current version: %s", r)
		}
		sameStrings(t, "after the stale update", e.permissionsOf(agent), want)

		// The owner edits the Admin role: its holders lose Publish at once.
		adminMember := e.addMember(a.Owner, a.ID, "second@cv-edit.test", a.Roles["admin"])
		r = e.ok(a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": a.Roles["admin"], "expectedVersion": 1,
			"name": "Administrator", "removeGrants": []string{"Publish", "DeleteUser"}}})
		if r.Get("data.updateRole.role.version").Int() != 2 {
			t.Fatalf("admin update: %s", r)
		}
		p := e.permissionsOf(adminMember)
		if contains(p, "Publish") || contains(p, "DeleteUser") || !contains(p, "Campaign") {
			t.Errorf("Admin holder after the edit: %v", p)
		}
		if d := e.decide(userToken(t, "second@cv-edit.test"), map[string]any{"accountId": a.ID, "permission": "Publish"}).Get("data.authorize"); d.Get("allowed").Bool() {
			t.Errorf("Publish after removal: %s", d)
		}
		if e.auditCount(a.ID, "role.updated") != 2 {
			t.Error("L1: each edit is audited once, the stale one not")
		}
	})
}

// R3: "The new role is created with no permissions. You must then assign
// permissions to the role before it becomes useful."
func TestConvrs_NewRoleStartsEmpty(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("convrs", "cv-empty")
		_, admin := tlConvrsAdmin(e, a, "ada@cv-empty.test")
		r := e.ok(admin, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id key kind grants effectivePermissions version } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Customer Data Management"}})
		role := r.Get("data.createRole.role")
		if role.Get("key").String() != "customer_data_management" || role.Get("kind").String() != "CUSTOM" ||
			role.Get("grants").Raw != "[]" || role.Get("effectivePermissions").Raw != "[]" {
			t.Fatalf("new role: %s", r)
		}
		id := role.Get("id").String()
		m := e.addMember(admin, a.ID, "dana@cv-empty.test", id)
		if p := e.permissionsOf(m); len(p) != 0 {
			t.Fatalf("a holder of only the new role holds %v", p)
		}
		tok := userToken(t, "dana@cv-empty.test")
		if d := e.decide(tok, map[string]any{"accountId": a.ID, "permission": "Users"}).Get("data.authorize"); d.Get("allowed").Bool() || d.Get("reason").String() != "NOT_GRANTED" {
			t.Errorf("empty role allowed Users: %s", d)
		}
		// Assigning permissions makes it useful, at once.
		e.ok(admin, updateRole, map[string]any{"in": map[string]any{"roleId": id, "expectedVersion": 1, "addGrants": []string{"Users", "AgentBlockUser"}}})
		sameStrings(t, "after assigning permissions", e.permissionsOf(m), []string{"Users", "AgentBlockUser"})
		if d := e.decide(tok, map[string]any{"accountId": a.ID, "permission": "Users"}).Get("data.authorize"); !d.Get("allowed").Bool() {
			t.Errorf("Users after the grant: %s", d)
		}
	})
}

// R6: deleting a role agents hold is refused with the holder count; with
// reassignToRoleId the holders move to another role in the same transaction.
func TestConvrs_DeleteHeldRoleNeedsReassignment(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("convrs", "cv-del")
		_, admin := tlConvrsAdmin(e, a, "ada@cv-del.test")
		night := e.createRole(admin, a.ID, "Night Shift", []string{"AgentChat", "AcceptWaiting", "UnstickUser"})
		m1 := e.addMember(admin, a.ID, "n1@cv-del.test", night)
		m2 := e.addMember(admin, a.ID, "n2@cv-del.test", night, a.Roles["agent"])
		r := e.fails("CONFLICT", admin, deleteRole, map[string]any{"in": map[string]any{"roleId": night}})
		if r.Get("errors.0.extensions.holders").Int() != 2 || r.Get("errors.0.extensions.reason").String() != "ROLE_HELD" {
			t.Fatalf("holder count: %s", r)
		}
		// The default Agent role is a custom role: held, it is protected the same way.
		r = e.fails("CONFLICT", admin, deleteRole, map[string]any{"in": map[string]any{"roleId": a.Roles["agent"]}})
		if r.Get("errors.0.extensions.holders").Int() != 1 {
			t.Errorf("Agent's holder count: %s", r)
		}
		if !contains(e.permissionsOf(m1), "UnstickUser") || e.auditCount(a.ID, "role.deleted") != 0 {
			t.Fatal("a refused delete changed something")
		}

		r = e.ok(admin, deleteRole, map[string]any{"in": map[string]any{"roleId": night, "reassignToRoleId": a.Roles["agent"]}})
		if r.Get("data.deleteRole.reassignedMembers").Int() != 2 || r.Get("data.deleteRole.deletedRoleId").String() != night {
			t.Fatalf("reassigned: %s", r)
		}
		const rolesOf = `query($id: ID!) { node(id: $id) { ... on Member { roles { key } } } }`
		for _, m := range []string{m1, m2} {
			got := gjsonStrings(e.ok(e.Operator, rolesOf, map[string]any{"id": m}).Get("data.node.roles.#.key").Array())
			if !slices.Equal(got, []string{"agent"}) {
				t.Errorf("member %s holds %v, want [agent]", m, got)
			}
			sameStrings(t, "moved member's permissions", e.permissionsOf(m), tlConvrsAgent)
		}
		e.fails("NOT_FOUND", admin, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": night})
		if e.auditCount(a.ID, "role.deleted") != 1 {
			t.Error("L1: one role.deleted event")
		}
		// A role nobody holds goes without reassignment.
		e.ok(admin, deleteRole, map[string]any{"in": map[string]any{"roleId": e.createRole(admin, a.ID, "Spare", nil)}})
	})
}

// V2, V3: "Audit permission usage — identify permissions that are rarely or
// never used": the review lists what a role grants that its holders have not
// used since a date, from recorded allowed decisions.
func TestConvrs_AccessReviewFindsUnusedPermissions(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("convrs", "cv-review")
		_, admin := tlConvrsAdmin(e, a, "ada@cv-review.test")
		e.addMember(a.Owner, a.ID, "a1@cv-review.test", a.Roles["agent"])
		e.addMember(a.Owner, a.ID, "a2@cv-review.test", a.Roles["agent"])
		a1, a2 := userToken(t, "a1@cv-review.test"), userToken(t, "a2@cv-review.test")
		use := func(tok, p string) {
			t.Helper()
			if !e.decide(tok, map[string]any{"accountId": a.ID, "permission": p}).Get("data.authorize.allowed").Bool() {
				t.Fatalf("setup: %s denied", p)
			}
		}
		// Used before the review's date: does not count.
		use(a1, "AgentChatAllowTransfer")
		e.ok(admin, review, map[string]any{"id": a.ID, "since": time.Now().UTC().Format(time.RFC3339Nano)}) // flushes that use
		time.Sleep(20 * time.Millisecond)
		since := time.Now().UTC().Format(time.RFC3339Nano)
		time.Sleep(20 * time.Millisecond)
		use(a1, "AgentChat")
		use(a2, "ChatsMy")
		e.createRole(admin, a.ID, "Spare", []string{"FAQ"})
		e.ok(a1, `query($id: ID!) { viewer { can(accountId: $id, permission: "TeamStatus") { allowed } } }`, map[string]any{"id": a.ID})

		r := e.ok(admin, review, map[string]any{"id": a.ID, "since": since})
		rv := r.Get("data.account.accessReview")
		unused := rv.Get(`unusedPermissions.#(role.key=="agent").permissions`)
		if !unused.Exists() {
			t.Fatalf("no unused permissions for agent: %s", rv)
		}
		want := slices.DeleteFunc(slices.Clone(tlConvrsAgent), func(s string) bool {
			return s == "AgentChat" || s == "ChatsMy" || s == "TeamStatus"
		})
		sameStrings(t, "Agent's unused permissions", gjsonStrings(unused.Array()), want)
		if !contains(gjsonStrings(unused.Array()), "AgentChatAllowTransfer") {
			t.Error("a use before `since` counted")
		}
		// Nobody used any Admin permission since; agents only asked, the admin only reviewed.
		if adm := gjsonStrings(rv.Get(`unusedPermissions.#(role.key=="admin").permissions`).Array()); !contains(adm, "Publish") || !contains(adm, "AgentChat") {
			t.Errorf("Admin's unused permissions: %v", adm)
		}
		if got := gjsonStrings(rv.Get("rolesWithoutHolders.#.key").Array()); !slices.Equal(got, []string{"spare"}) {
			t.Errorf("roles without holders: %s", rv.Get("rolesWithoutHolders"))
		}
		// Agents cannot review access (AdminRolesAndPermissions implies iam.reviews.read).
		e.fails("FORBIDDEN", a1, review, map[string]any{"id": a.ID, "since": since})
	})
}

// "Each agent is assigned one or more roles, and inherits all permissions
// associated with those roles" (M2, minRolesPerMember 1): an agent added with
// no role, or left with none, is refused — by addMember, setMemberRoles and
// applyAccessConfig alike — and nothing is given implicitly.
func TestConvrs_EachAgentIsAssignedOneOrMoreRoles(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("convrs", "cv-one")
		r := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { settings { newMemberRoles minRolesPerMember } } }`, map[string]any{"id": a.ID})
		if r.Get("data.account.settings").Raw != `{"newMemberRoles":[],"minRolesPerMember":1}` {
			t.Fatalf("settings: %s", r)
		}
		tooFew := func(what string, r resp) {
			t.Helper()
			if r.Get("errors.0.extensions.reason").String() != "TOO_FEW_ROLES" || r.Get("errors.0.extensions.minRolesPerMember").Int() != 1 {
				t.Errorf("%s: %s", what, r)
			}
		}
		tooFew("no role named", e.fails("BAD_USER_INPUT", a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "x@cv-one.test"}}))
		tooFew("an empty list", e.fails("BAD_USER_INPUT", a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "x@cv-one.test", "roleIds": []string{}}}))
		m := e.addMember(a.Owner, a.ID, "aaron@cv-one.test", a.Roles["agent"])
		tooFew("setMemberRoles", e.fails("BAD_USER_INPUT", a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleIds": []string{}}}))
		doc := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { exportAccessConfig } }`, map[string]any{"id": a.ID}).Get("data.account.exportAccessConfig").Value().(map[string]any)
		doc["members"] = append(doc["members"].([]any), map[string]any{"email": "cfg@cv-one.test", "roles": []string{}})
		r = e.fails("BAD_USER_INPUT", a.Owner, applyConfig, map[string]any{"in": map[string]any{"accountId": a.ID, "document": doc}})
		if r.Get("errors.0.extensions.reason").String() != "TOO_FEW_ROLES" || r.Get("errors.0.extensions.member").String() != "cfg@cv-one.test" {
			t.Errorf("applyAccessConfig: %s", r)
		}
		if n := e.auditCount(a.ID, "member.added") + e.auditCount(a.ID, "member.roles.changed") + e.auditCount(a.ID, "access_config.applied"); n != 1 {
			t.Errorf("L1: %d member events, want the one agent added", n)
		}
		sameStrings(t, "the agent keeps Agent", e.permissionsOf(m), tlConvrsAgent)
		// Lowering the floor is the account's to decide; raising it waits for every agent to hold enough.
		e.ok(a.Owner, `mutation($id: ID!) { updateAccount(input: {accountId: $id, settings: {minRolesPerMember: 0}}) { account { id } } }`, map[string]any{"id": a.ID})
		e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleIds": []string{}}})
		r = e.fails("CONFLICT", a.Owner, `mutation($id: ID!) { updateAccount(input: {accountId: $id, settings: {minRolesPerMember: 1}}) { account { id } } }`, map[string]any{"id": a.ID})
		if r.Get("errors.0.extensions.reason").String() != "TOO_FEW_ROLES" || r.Get("errors.0.extensions.members").String() != `["`+m+`"]` {
			t.Errorf("raising the floor: %s", r)
		}
	})
}

// "AgentManagementAddAgent: Allows creation of new agents within the
// dashboard" — and nothing else (K7): its holder adds an agent with a role
// within their own permissions (R7), and can neither remove an agent nor
// change an agent's roles. "AgentManagementEditAgent: Allows editing of all
// agent details (name, business unit, language, role, ...)" changes roles
// and adds no one.
func TestConvrs_AgentManagementPermissionsDoWhatTheyName(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("convrs", "cv-am")
		leads := e.createRole(a.Owner, a.ID, "Team leads", append([]string{"AgentManagementAddAgent"}, tlConvrsAgent...))
		e.addMember(a.Owner, a.ID, "lead@cv-am.test", leads)
		lead := userToken(t, "lead@cv-am.test")
		agent := e.addMember(lead, a.ID, "aaron@cv-am.test", a.Roles["agent"])
		sameStrings(t, "the new agent", e.permissionsOf(agent), tlConvrsAgent)
		r := e.fails("FORBIDDEN", lead, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "boss@cv-am.test", "roleIds": []string{a.Roles["admin"]}}})
		if !strings.Contains(r.Get("errors.0.extensions.missingPermissions").String(), "AdminRolesAndPermissions") {
			t.Errorf("adding an Admin: %s", r)
		}
		for what, c := range map[string]struct {
			query   string
			vars    map[string]any
			missing string
		}{
			"remove":  {remove, map[string]any{"id": agent}, "iam.members.remove"},
			"suspend": {suspend, map[string]any{"id": agent}, "iam.members.suspend"},
			"roles":   {setRoles, map[string]any{"in": map[string]any{"memberId": agent, "roleIds": []string{a.Roles["agent"], leads}}}, "iam.members.roles.assign"},
		} {
			r := e.fails("FORBIDDEN", lead, c.query, c.vars)
			if r.Get("errors.0.extensions.missingPermissions").String() != `["`+c.missing+`"]` {
				t.Errorf("%s: %s", what, r)
			}
		}

		editors := e.createRole(a.Owner, a.ID, "Supervisors", append([]string{"AgentManagementEditAgent", "AgentSupervise"}, tlConvrsAgent...))
		e.addMember(a.Owner, a.ID, "sup@cv-am.test", editors)
		sup := userToken(t, "sup@cv-am.test")
		supervise := e.createRole(a.Owner, a.ID, "Supervision", []string{"AgentSupervise"})
		e.ok(sup, setRoles, map[string]any{"in": map[string]any{"memberId": agent, "roleIds": []string{a.Roles["agent"], supervise}}})
		e.ok(sup, `query($id: ID!) { account(id: $id) { members { totalCount } } }`, map[string]any{"id": a.ID})
		e.fails("FORBIDDEN", sup, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "y@cv-am.test", "roleIds": []string{a.Roles["agent"]}}})
		e.fails("FORBIDDEN", sup, remove, map[string]any{"id": agent})
	})
}

// Delete a Role: "Before deleting, check Agent Management to identify which
// agents have the role assigned" — one query, Role.members or
// members(where: {hasRoleWith}) — and "Document the reason for deletion for
// audit purposes": the reason is kept in the deletion's audit event (R6, L1).
// "Document the business justification for each permission assignment"
// likewise for role updates.
func TestConvrs_CheckWhoHoldsARoleThenDeleteItWithAReason(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("convrs", "cv-who")
		_, admin := tlConvrsAdmin(e, a, "ada@cv-who.test")
		night := e.createRole(admin, a.ID, "Night Shift", []string{"AgentChat", "AcceptWaiting"})
		n1 := e.addMember(admin, a.ID, "n1@cv-who.test", night)
		n2 := e.addMember(admin, a.ID, "n2@cv-who.test", night, a.Roles["agent"])
		e.addMember(admin, a.ID, "day@cv-who.test", a.Roles["agent"])
		r := e.ok(admin, `query($id: ID!) { node(id: $id) { ... on Role { key holderCount
			members(first: 1) { totalCount pageInfo { hasNextPage endCursor } edges { node { id email } } } } } }`, map[string]any{"id": night})
		page := r.Get("data.node.members")
		if page.Get("totalCount").Int() != 2 || !page.Get("pageInfo.hasNextPage").Bool() || page.Get("edges.#").Int() != 1 {
			t.Fatalf("first page of holders: %s", r)
		}
		r2 := e.ok(admin, `query($id: ID!, $after: Cursor) { node(id: $id) { ... on Role { members(first: 1, after: $after) {
			pageInfo { hasNextPage } edges { node { id } } } } } }`, map[string]any{"id": night, "after": page.Get("pageInfo.endCursor").String()})
		got := []string{page.Get("edges.0.node.id").String(), r2.Get("data.node.members.edges.0.node.id").String()}
		sameStrings(t, "the holders, page by page", got, []string{n1, n2})
		if r2.Get("data.node.members.pageInfo.hasNextPage").Bool() {
			t.Errorf("a third page: %s", r2)
		}
		// The Agent Management list, filtered by role.
		r = e.ok(admin, `query($id: ID!) { account(id: $id) { members(where: {hasRoleWith: [{key: "night_shift"}]}) { totalCount edges { node { id } } } } }`, map[string]any{"id": a.ID})
		sameStrings(t, "members(where: {hasRoleWith})", gjsonStrings(r.Get("data.account.members.edges.#.node.id").Array()), []string{n1, n2})
		r = e.ok(admin, `query($id: ID!) { account(id: $id) { members(where: {hasRoleWith: [{kind: CUSTOM}], not: {hasRoleWith: [{key: "agent"}]}}) { edges { node { email } } } } }`, map[string]any{"id": a.ID})
		sameStrings(t, "custom roles, but not Agent", gjsonStrings(r.Get("data.account.members.edges.#.node.email").Array()), []string{"ada@cv-who.test", "n1@cv-who.test"})
		// Reading holders needs iam.members.read, like the member list.
		e.fails("FORBIDDEN", userToken(t, "day@cv-who.test"), `query($id: ID!) { node(id: $id) { ... on Role { members { totalCount } } } }`, map[string]any{"id": a.Roles["agent"]})

		const justification = "Night agents also answer the waiting queue (OPS-31)"
		e.ok(admin, updateRole, map[string]any{"in": map[string]any{"roleId": night, "expectedVersion": 1, "addGrants": []string{"UnstickUser"}, "reason": justification}})
		const why = "night shift merged into Agent after the 2026 reorganisation"
		e.ok(admin, deleteRole, map[string]any{"in": map[string]any{"roleId": night, "reassignToRoleId": a.Roles["agent"], "reason": why}})
		if got := e.auditReasons(admin, a.ID, "role.deleted"); !slices.Equal(got, []string{why}) {
			t.Errorf("reason of the deletion: %q", got)
		}
		if got := e.auditReasons(admin, a.ID, "role.updated"); !slices.Equal(got, []string{justification}) {
			t.Errorf("justification of the assignment: %q", got)
		}
		r = e.ok(admin, `query($id: ID!) { node(id: $id) { ... on Role { members { totalCount } } } }`, map[string]any{"id": a.Roles["agent"]})
		if r.Get("data.node.members.totalCount").Int() != 3 {
			t.Errorf("Agent's holders after the reassignment: %s", r)
		}
	})
}

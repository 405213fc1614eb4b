package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// The decision API decodes its bodies with a faster JSON library than
// encoding/json (D1): it must accept exactly the bodies encoding/json's
// strict Decoder accepts (one object, no unknown field, nothing after it)
// and read the same request from them.
func FuzzD1_DecodeLikeEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"accountId":"a","subject":{"memberId":"m"},"permission":"p"}`,
		`{"checks":[{"accountId":"a","subject":{"apiKeyId":"k"},"permission":"p","resource":[{"key":"k","value":"v"}]}]}`,
		`{"accountId":"a","permission":"p"} {}`, `{"accountId":"a","extra":1}`, `{"ACCOUNTID":"a"}`,
		`{"accountId":"a\u00e9\ud800"}`, `{"checks":null}`, `null`, `[]`, `{"accountId":1}`, ` {} `, `{"subject":{"memberId":"m","x":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := decodeDecisionRequest(body)
		var want decisionRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		wantErr := dec.Decode(&want)
		if wantErr == nil && !json.Valid(body) { // one value, and nothing after it
			wantErr = errors.New("more than one JSON value")
		}
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%q: accepted %v, encoding/json %v (%v, %v)", body, gotErr == nil, wantErr == nil, gotErr, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: read %+v, encoding/json %+v", body, got, want)
		}
	})
}

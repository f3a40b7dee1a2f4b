package httpapi_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/httpapi"
	"github.com/hotswap-db/hotswap/internal/api"
)

// TestRegisterMember: a member records its own addresses with a proof under
// the cluster's signing key and no token; a body without a valid, fresh
// proof, for a server outside the configuration, or claiming another Raft
// address, changes nothing.
func TestRegisterMember(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if err := h.raft.AddVoter("s2", "10.0.0.2:7001", time.Second); err != nil {
		t.Fatal(err)
	}
	issued := h.now()
	signed := func(k []byte, id string, m api.MemberAddresses) api.MemberAddresses {
		m.IssuedAt = issued
		m.Proof = httpapi.MemberAddressesProof(k, id, m)
		return m
	}
	anon := api.New(h.srv.URL, "")
	good := signed(testSigningKey, "s2", api.MemberAddresses{RaftAddr: "10.0.0.2:7001", HTTPAddr: "10.0.0.2:7002", RPCAddr: "10.0.0.2:7003"})
	refused := []struct {
		name string
		id   string
		body api.MemberAddresses
		want error
	}{
		{"no proof", "s2", func() api.MemberAddresses { m := good; m.Proof = ""; return m }(), api.ErrForbidden},
		{"another key", "s2", signed([]byte("another key"), "s2", good), api.ErrForbidden},
		{"proof for other addresses", "s2", func() api.MemberAddresses { m := good; m.HTTPAddr = "10.6.6.6:80"; return m }(), api.ErrForbidden},
		{"stale proof", "s2", func() api.MemberAddresses {
			m := good
			m.IssuedAt = issued.Add(-time.Hour)
			m.Proof = httpapi.MemberAddressesProof(testSigningKey, "s2", m)
			return m
		}(), api.ErrForbidden},
		{"not a member", "s9", signed(testSigningKey, "s9", good), api.ErrNotFound},
		{"another raft address", "s2", signed(testSigningKey, "s2", api.MemberAddresses{RaftAddr: "10.6.6.6:7001", HTTPAddr: "10.6.6.6:7002",
			RPCAddr: "10.6.6.6:7003"}), api.ErrConflict},
		{"bad address", "s2", signed(testSigningKey, "s2", api.MemberAddresses{RaftAddr: "10.0.0.2:7001", HTTPAddr: "nowhere", RPCAddr: "10.0.0.2:7003"}),
			api.ErrValidation},
	}
	before := h.view()
	for _, c := range refused {
		if _, err := anon.RegisterMemberAddresses(ctx, c.id, c.body); !errors.Is(err, c.want) {
			t.Errorf("%s: error = %v, want %v", c.name, err, c.want)
		}
	}
	h.unchanged(t, before)
	srv, err := anon.RegisterMemberAddresses(ctx, "s2", good)
	if err != nil || srv.HTTPAddr != "10.0.0.2:7002" {
		t.Fatalf("RegisterMemberAddresses(s2) = %+v, %v", srv, err)
	}
	if got := h.raft.State().Servers()["s2"]; got != srv {
		t.Errorf("state holds %+v, want %+v", got, srv)
	}
	again := h.view()
	if _, err := anon.RegisterMemberAddresses(ctx, "s2", good); err != nil {
		t.Errorf("the same addresses again: %v", err)
	}
	h.unchanged(t, again)
}

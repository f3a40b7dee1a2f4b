package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestRestoreBringsBackTheSavedState saves a snapshot, changes the state,
// restores the file and finds the state as it was saved, with the restore
// in the audit log and the hash chain intact.
func TestRestoreBringsBackTheSavedState(t *testing.T) {
	h := newHarness(t)
	ctx, c := context.Background(), h.client
	f := h.addDatabase(t)
	kept := h.addMigration(t, f, "kept")
	var file bytes.Buffer
	if _, err := c.SaveSnapshot(ctx, &file); err != nil {
		t.Fatalf("save: %v", err)
	}
	if err := c.DeleteMigration(ctx, kept.MigrationID); err != nil {
		t.Fatal(err)
	}
	later := h.addMigration(t, f, "later")
	res, err := c.RestoreSnapshot(ctx, bytes.NewReader(file.Bytes()))
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if res.Restored.Migrations != 1 || res.Restored.Databases != 1 || res.Snapshot.Size == 0 {
		t.Errorf("restore answered %+v, want the saved state's one migration and one database", res)
	}
	if _, err := c.GetMigration(ctx, kept.MigrationID); err != nil {
		t.Errorf("the migration deleted after the save is not back: %v", err)
	}
	var ae *api.Error
	if _, err := c.GetMigration(ctx, later.MigrationID); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("the migration created after the save = %v, want 404 after the restore", err)
	}
	entries, err := c.ListAudit(ctx, api.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	restores := 0
	for _, e := range entries.Entries {
		if e.Action == "operator_action" && e.Target == "snapshot_restore" {
			restores++
		}
	}
	if restores != 1 {
		t.Errorf("the audit log holds %d snapshot_restore entries, want 1: %+v", restores, entries.Entries)
	}
	if v, err := c.VerifyAudit(ctx); err != nil || !v.Valid {
		t.Errorf("audit chain after the restore: %+v %v, want valid", v, err)
	}
}

// TestRestoreRefusesBadFiles sends damaged and foreign files: each is
// refused with a clear error and the state does not change.
func TestRestoreRefusesBadFiles(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.addMigration(t, h.addDatabase(t), "m1")
	var file bytes.Buffer
	if _, err := h.client.SaveSnapshot(ctx, &file); err != nil {
		t.Fatal(err)
	}
	good := file.String()
	flipped := []byte(good)
	flipped[len(flipped)-2] ^= 0x20
	cases := map[string]struct {
		body, contentType string
		status            int
		want              string
	}{
		"json body":    {`{"a":1}`, "application/json", http.StatusUnsupportedMediaType, "application/octet-stream"},
		"empty":        {"", api.SnapshotMediaType, http.StatusBadRequest, "not a HotSwap snapshot"},
		"a pg_dump":    {"PGDMP\x01\x0e\x00", api.SnapshotMediaType, http.StatusBadRequest, "not a HotSwap snapshot"},
		"truncated":    {good[:len(good)-10], api.SnapshotMediaType, http.StatusBadRequest, "truncated"},
		"flipped byte": {string(flipped), api.SnapshotMediaType, http.StatusBadRequest, "checksum mismatch"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := h.view()
			req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/api/v1/operator/snapshot", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set("Content-Type", tc.contentType)
			resp, err := h.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(body.String(), tc.want) {
				t.Errorf("restore = %d %s, want %d saying %q", resp.StatusCode, body.String(), tc.status, tc.want)
			}
			h.unchanged(t, before)
		})
	}
}

// TestOperatorRoutesNeedAnAdmin: a DBA may neither save nor restore a
// snapshot nor move the leadership.
func TestOperatorRoutesNeedAnAdmin(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.client.CreateUser(ctx, api.CreateUserRequest{Username: "dba1", Password: "a long enough passphrase", Role: domain.RoleDBA}); err != nil {
		t.Fatal(err)
	}
	login, err := h.client.Login(ctx, "dba1", "a long enough passphrase")
	if err != nil {
		t.Fatal(err)
	}
	dba := api.New(h.srv.URL, login.Token)
	var ae *api.Error
	if _, err := dba.SaveSnapshot(ctx, &bytes.Buffer{}); !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("a DBA's snapshot save = %v, want 403", err)
	}
	if _, err := dba.TransferLeadership(ctx, ""); !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("a DBA's leadership transfer = %v, want 403", err)
	}
	if _, err := h.client.TransferLeadership(ctx, ""); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Errorf("a transfer on a one-server cluster = %v, want 400", err)
	}
	if _, err := h.client.TransferLeadership(ctx, "nosuch"); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("a transfer to an unknown server = %v, want 404", err)
	}
}

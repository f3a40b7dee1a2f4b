//go:build unix

package dialect

import (
	"syscall"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// FreeBytes is the space available to unprivileged users on the file
// system holding dir, domain.UnknownSize when it cannot be read: an engine's
// Inspector reports it for the data directory of a server on this host.
func FreeBytes(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return domain.UnknownSize
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

//go:build unix

package mysql

import (
	"syscall"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// freeBytes is the space available to unprivileged users on the file
// system holding dir.
func freeBytes(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return domain.UnknownSize
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

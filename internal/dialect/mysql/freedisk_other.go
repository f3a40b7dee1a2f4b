//go:build !unix

package mysql

import "github.com/hotswap-db/hotswap/internal/domain"

// freeBytes cannot read the file system on this platform.
func freeBytes(string) int64 { return domain.UnknownSize }

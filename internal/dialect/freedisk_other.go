//go:build !unix

package dialect

import "github.com/hotswap-db/hotswap/internal/domain"

// FreeBytes cannot read the file system on this platform.
func FreeBytes(string) int64 { return domain.UnknownSize }

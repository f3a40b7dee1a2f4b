// Package backup reads and writes the file `hotswap operator snapshot save`
// produces: a one-line header, a line of JSON metadata (what the file holds
// and its SHA-256), then the control plane's state exactly as its Raft
// snapshots store it. The CLI can inspect a file and the server verifies one
// before restoring it, with no other shared code.
package backup

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Header is the first line of every file, before its newline.
const Header = "HOTSWAP-SNAPSHOT 1"

// MaxSize bounds the state a file may carry, and so the body of a restore.
const MaxSize = 1 << 30

// maxMetaLine bounds the metadata line.
const maxMetaLine = 64 << 10

// Meta says what a file holds. SHA256 and Size describe the state that
// follows the metadata line.
type Meta struct {
	ServerID  string    `json:"serverId"`  // the server that took it (the leader then)
	Version   string    `json:"version"`   // that server's build version
	Index     uint64    `json:"index"`     // the last Raft index the state includes
	Term      uint64    `json:"term"`      // that entry's term
	CreatedAt time.Time `json:"createdAt"` // when it was taken (UTC)
	Size      int64     `json:"size"`      // bytes of state
	SHA256    string    `json:"sha256"`    // hex SHA-256 of the state
}

// Write writes a file: the header, meta (its Size and SHA256 filled in from
// state) and state.
func Write(w io.Writer, meta Meta, state []byte) (Meta, error) {
	sum := sha256.Sum256(state)
	meta.Size, meta.SHA256 = int64(len(state)), hex.EncodeToString(sum[:])
	line, err := json.Marshal(meta)
	if err != nil {
		return meta, fmt.Errorf("backup: encode metadata: %w", err)
	}
	var head bytes.Buffer
	head.WriteString(Header + "\n")
	head.Write(line)
	head.WriteByte('\n')
	if _, err := w.Write(head.Bytes()); err != nil {
		return meta, fmt.Errorf("backup: write header: %w", err)
	}
	if _, err := w.Write(state); err != nil {
		return meta, fmt.Errorf("backup: write state: %w", err)
	}
	return meta, nil
}

// Read reads and verifies a file: its header, its metadata, and a state of
// exactly the size and checksum the metadata gives. Nothing may follow.
func Read(r io.Reader) (Meta, []byte, error) {
	br := bufio.NewReaderSize(r, maxMetaLine)
	meta, err := readMeta(br)
	if err != nil {
		return Meta{}, nil, err
	}
	if meta.Size < 0 || meta.Size > MaxSize {
		return meta, nil, fmt.Errorf("backup: state size %d is out of range (at most %d bytes)", meta.Size, MaxSize)
	}
	state := make([]byte, meta.Size)
	if _, err := io.ReadFull(br, state); err != nil {
		return meta, nil, fmt.Errorf("backup: the file is truncated: want %d bytes of state: %w", meta.Size, err)
	}
	if n, _ := br.Read(make([]byte, 1)); n > 0 {
		return meta, nil, errors.New("backup: bytes follow the state: the file is not one snapshot")
	}
	sum := sha256.Sum256(state)
	if got := hex.EncodeToString(sum[:]); got != meta.SHA256 {
		return meta, nil, fmt.Errorf("backup: checksum mismatch: the state hashes to %s, the file says %s", got, meta.SHA256)
	}
	return meta, state, nil
}

func readMeta(br *bufio.Reader) (Meta, error) {
	head, err := readLine(br)
	if err != nil || head != Header {
		return Meta{}, fmt.Errorf("backup: not a HotSwap snapshot file (want a first line %q)", Header)
	}
	line, err := readLine(br)
	if err != nil {
		return Meta{}, fmt.Errorf("backup: read metadata: %w", err)
	}
	var meta Meta
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&meta); err != nil {
		return Meta{}, fmt.Errorf("backup: invalid metadata line: %w", err)
	}
	if len(meta.SHA256) != sha256.Size*2 {
		return Meta{}, errors.New("backup: invalid metadata line: no sha256")
	}
	return meta, nil
}

func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	return string(line[:len(line)-1]), nil
}

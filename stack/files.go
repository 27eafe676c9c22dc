package stack

import (
	"fmt"
	"os"
	"path/filepath"
)

// Owner is a numeric file owner.
type Owner struct {
	// UID is the user id.
	UID int
	// GID is the group id.
	GID int
}

// WriteFileAtomic replaces path with data: it writes a temp file in the same
// directory, fsyncs it, sets perm (and owner when not nil), and renames it
// over path, so readers never see a partial file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode, owner *Owner) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := writeSync(f, data, perm, owner); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

func writeSync(f *os.File, data []byte, perm os.FileMode, owner *Owner) error {
	// chmod before any byte lands: a key is never readable by others.
	err := f.Chmod(perm)
	if err == nil && owner != nil {
		err = f.Chown(owner.UID, owner.GID)
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes the rename durable; best effort, the rename already happened.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

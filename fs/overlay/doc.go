// Package overlay stacks a writable filesystem (the upper layer, an
// in-memory fs/tmpfs) on a read-only one (the lower layer, usually the
// host's tree through fs/hostfs), as Linux's overlayfs with a single lower
// layer or "runsc do": the program sees the lower tree, may change
// anything, and every change lands in the upper layer. The lower layer is
// never written.
//
// # Layers
//
// A name present in the upper layer hides the lower layer's; a directory
// present in both (and not opaque) is merged: its entries are those of
// both, the upper's winning. Whiteouts (names removed from the lower
// layer) and opaque markers (directories whose lower contents must not
// show through) are kept in the overlay's own memory, a set of names per
// upper directory, not as special files in the upper filesystem: the upper
// tmpfs is private to the overlay and lives exactly as long, so nothing
// else ever reads it. The upper layer must therefore be empty when given
// to New, not be used by anyone else, implement fs.Mutable on its nodes
// (and fs.FileOps on its open files), and never reuse an inode number of
// a file still linked (tmpfs numbers are never reused): its inode numbers
// key the overlay's records.
//
// # Copy-up
//
// Reading opens the topmost layer's file. Opening a regular file for
// writing (or with O_TRUNC), and every change of a file's metadata
// (chmod, truncate, utimens, link, rename), first copies the file up:
// its parent directories are created in the upper layer as needed (with
// the lower directories' modes and times), then the file with its data
// (in chunks of 1 MiB; pages of zeros are left as holes, so sparse files
// stay sparse), mode and times; a symbolic link is copied up as a
// symbolic link. The times of the upper parent are put back after a
// copy-up, as Linux does. Devices, FIFOs and sockets of the lower layer
// cannot be copied up (the upper tmpfs cannot hold them): changing them
// is EOPNOTSUPP, renaming them EXDEV; they can be removed. Owners cannot
// be set in tmpfs, so a copied-up file keeps showing its lower owner (the
// overlay remembers it). Hard links of the lower layer are broken by
// copy-up: the copied-up name becomes a file of its own, which keeps the
// inode number its lower names share (as overlayfs without index=on);
// links made in the overlay are real links in the upper layer. Files
// made in the overlay belong to the upper tmpfs's owner (tmpfs.SetOwner). Copy-up runs under the overlay's lock: other operations on
// the overlay wait for a large copy-up (open files read and write on).
//
// A file opened read-only before it was copied up switches to the upper
// copy at its next operation, at the same offset (as Linux's overlayfs
// since 4.19), so it sees the writes made through other files.
//
// # Directories
//
// A listing (fs.DirReader) gives the upper entries, then the lower ones
// not hidden by an upper entry or a whiteout, each name once. It is taken
// whole when reading from offset 0 (the first time and after a rewind),
// so offsets are stable within one open directory.
//
// Creating a name over a whiteout removes the whiteout; a directory made
// over a whiteout is opaque. Removing a name takes it out of the upper
// layer if it is there, and adds a whiteout if the lower layer has it.
// rmdir of a merged directory is ENOTEMPTY while its merged view has
// entries. Adding a whiteout alone (removing a lower-only name) still
// changes the parent's mtime and ctime.
//
// rename(2) works within the overlay, with rename(2)'s replacing rules.
// Files and symbolic links are copied up and renamed in the upper layer
// (a whiteout hides the old name if the lower layer has it). A directory
// that exists in the lower layer (merged or not yet copied up) is EXDEV,
// as Linux's overlayfs without redirect_dir: programs such as mv(1) then
// copy and remove it. Directories made in the overlay move freely; one
// moved over a name the lower layer has becomes opaque. renameat2's
// RENAME_NOREPLACE is checked against the merged view (a whiteout is no
// entry) under the overlay's lock, with the rename; RENAME_EXCHANGE copies
// both files up and exchanges them in the upper layer (the same EXDEV
// cases, for either of the two).
//
// # Attributes
//
// Attributes come from the topmost layer, except: st_dev is a constant of
// the overlay; st_ino is stable per file for the life of the overlay (a
// lower file keeps its number when copied up); a merged directory has a
// link count of 1 (as overlayfs: "unknown", so that find(1) does not
// count subdirectories). Inode numbers carry their layer in the top 8
// bits: 0 for files made in the upper layer, 1 to 254 for each device of
// the lower layer; the rare number that does not fit in 56 bits gets a
// synthetic one (layer 255). Directory listings number lower entries with
// their directory's device (a mount point in the lower tree is numbered
// as Linux's getdents numbers it: with the covered directory's inode).
//
// Nodes implement fs.Node, fs.Mutable and fs.Creator; open regular files
// implement fs.Impl and fs.FileOps, open directories fs.Impl and
// fs.DirReader. Everything is safe for concurrent use: one mutex per
// overlay guards its records and the layers are called under it (they
// never call back); reads and writes of open files do not take it.
// Changes made to the lower tree behind the overlay's back are not
// supported (as overlayfs: the result is undefined but never a write to
// the lower layer).
package overlay

// Package tmpfs is an in-memory filesystem (fs.FS) for the sandbox: /tmp,
// /dev/shm, a writable root.
//
// Everything lives in Go memory and is guarded by one mutex per
// filesystem. Nodes implement fs.Node and fs.Mutable (and so fs.Creator);
// open regular files implement fs.Impl and fs.FileOps, open directories
// fs.Impl and fs.DirReader.
//
// File data is kept in pages of PageSize (4 KiB) held in a map per file,
// so sparse files cost nothing for their holes: holes read as zeros,
// SEEK_DATA and SEEK_HOLE report them page by page, and a truncate that
// grows a file allocates nothing. Nothing trusts sizes: a file never grows
// past MaxFileSize (EFBIG), and the data of all files together never takes
// more than the limit given to New, in whole pages as Linux's tmpfs counts
// (the limit is rounded up to a page; a write that runs into it is short,
// and ENOSPC when nothing could be written). Symbolic links with a target
// longer than 128 bytes take a page of the limit too. The number of nodes
// is bounded as well (DefaultMaxNodes, SetMaxNodes; ENOSPC): every inode
// counts, and so does every extra hard link (as Linux's tmpfs, so that
// directory entries are bounded too).
//
// Semantics follow Linux's tmpfs: st_dev is a constant per filesystem,
// inode numbers are unique, directories have 2 + subdirectories links and
// a size of 20 bytes per entry (plus "." and ".."), st_blocks counts the
// allocated pages, the root is drwxrwxrwt. Times are kept as Linux keeps
// them (strictatime: every read sets atime). New nodes belong to 0:0 or
// to the owner given to SetOwner, except that a directory with the
// set-group-ID bit gives its group (and, to subdirectories, the bit) to
// new entries. rename(2) replaces as Linux does (EISDIR, ENOTDIR,
// ENOTEMPTY, EINVAL when moving a directory below itself, nothing done
// when both names are the same file), and takes renameat2's
// RENAME_NOREPLACE and RENAME_EXCHANGE (checked and done under the
// filesystem's lock); hard links to directories are
// EPERM; O_APPEND writes (pwrite included, as on Linux) go to the end of
// the file; a file unlinked while open stays readable and writable
// through its open files, and its pages are given back when the last one
// is released.
//
// Directory listings are in creation order (a renamed entry moves to the
// end of its new directory; names exchanged keep their places). A listing read in steps continues after the
// last entry returned even if entries are removed or added meanwhile:
// nothing is skipped, removed entries are not returned again, new ones
// come at the end.
package tmpfs

// Package memfile owns the memory file: one host memfd that holds every
// page of guest user memory and every guest page-table page. It is mapped
// once into a large reserved range of the ringbox process, so a page's host
// virtual address is also its guest-physical address, and it hands out
// pages with reuse, within the sandbox's memory limit.
package memfile

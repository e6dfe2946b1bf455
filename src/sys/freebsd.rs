//! TODO: FreeBSD ioctl backend

// SPDX-License-Identifier: GPL-2.0
/*
 * dstor-logreplay: read the log of a dm-log-writes target and replay it onto
 * a scratch device, to see what a crash at a chosen point would have left
 * on stable storage (selftests/durability.sh).
 *
 *   dstor-logreplay --log LOG --list
 *   dstor-logreplay --log LOG --points
 *   dstor-logreplay --log LOG --find-mark NAME
 *   dstor-logreplay --log LOG --flush-before NAME
 *   dstor-logreplay --log LOG --replay TARGET --to N [--from M]
 *
 *   --list          every entry: "INDEX OFFSET FLAGS SECTOR NR_SECTORS [MARK]",
 *                   OFFSET being the byte offset of its header in LOG; then
 *                   "# end of the log at byte N"
 *   --points        every mark: "MARK_INDEX FLUSH_INDEX NAME", FLUSH_INDEX
 *                   being the last FLUSH or FUA entry before it (-1: none)
 *   --find-mark     the index of the first mark NAME
 *   --flush-before  the index of the last FLUSH or FUA entry before the
 *                   first mark NAME
 *   --replay        write entries M (default 0) to N, inclusive, onto
 *                   TARGET (a device or a file) and fsync it: a write puts
 *                   its data back, a discard writes zeros, flushes and marks
 *                   change nothing
 *
 * Entries count from 0 in log order. Exit status: 0; 1 when the log is
 * malformed, cannot be read, or has no such mark or entry, or TARGET cannot
 * be written; 2 on bad arguments.
 *
 * The format, from the kernel's drivers/md/dm-log-writes.c and
 * Documentation/admin-guide/device-mapper/log-writes.rst (all numbers
 * little-endian):
 *
 *   byte 0          the super: u64 magic 0x6a736677736872, u64 version 1,
 *                   u64 nr_entries, u32 sectorsize (the data device's
 *                   logical block size); it fills the first sectorsize bytes
 *   then, per entry one header of sectorsize bytes: u64 sector, u64
 *                   nr_sectors (both in units of sectorsize), u64 flags,
 *                   u64 data_len; a mark's text (data_len bytes, no NUL)
 *                   follows in the same header block; a write's data
 *                   (nr_sectors x sectorsize bytes) follows the header. A
 *                   discard has no data in the log.
 *   flags           FLUSH 1, FUA 2, DISCARD 4, MARK 8, METADATA 16
 *
 * The target writes an entry only once it is on stable storage: ordinary
 * writes when the next FLUSH completes (before that FLUSH's own entry),
 * FUA writes when they complete. So replaying up to a FLUSH or FUA entry
 * gives the device as a power cut right after it could leave it.
 *
 * Everything read from the log is checked against the log's and the
 * target's size before it is used.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

#define LOG_MAGIC	0x6a736677736872ULL
#define LOG_VERSION	1
#define SUPER_LEN	28	/* magic, version, nr_entries, sectorsize */
#define ENTRY_LEN	32	/* sector, nr_sectors, flags, data_len */

#define F_FLUSH		(1U << 0)
#define F_FUA		(1U << 1)
#define F_DISCARD	(1U << 2)
#define F_MARK		(1U << 3)
#define F_METADATA	(1U << 4)
#define F_KNOWN		(F_FLUSH | F_FUA | F_DISCARD | F_MARK | F_METADATA)

#define CHUNK		(1U << 20)	/* bytes copied at a time */

struct log {
	const char *path;
	int fd;
	uint64_t size;		/* bytes */
	uint32_t ss;		/* sectorsize */
	uint64_t nr;		/* entries, from the super */
	uint64_t next;		/* index of the next entry */
	uint64_t pos;		/* its byte offset */
	unsigned char *hdr;	/* one header block */
};

struct entry {
	uint64_t idx;
	uint64_t off;		/* its header's byte offset in the log */
	uint64_t sector;
	uint64_t nr_sectors;
	uint64_t flags;
	uint64_t data_off;	/* where its data is in the log */
	uint64_t data_len;	/* bytes of data in the log */
	char mark[4096];	/* a mark's text, NUL-terminated */
};

static uint64_t get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	while (bytes--)
		v = v << 8 | p[bytes];
	return v;
}

/* Exactly @len bytes at @off, or exit. */
static void read_at(int fd, const char *path, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err(1, "%s: read at byte %" PRIu64, path, off);
		if (n == 0)
			errx(1, "%s: short read at byte %" PRIu64, path, off);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
}

static void write_at(int fd, const char *path, const void *buf, size_t len, uint64_t off)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			err(1, "%s: write at byte %" PRIu64, path, off);
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
}

/* A device's or a file's size in bytes. */
static uint64_t size_of(int fd, const char *path)
{
	off_t end = lseek(fd, 0, SEEK_END);

	if (end < 0)
		err(1, "%s: size", path);
	return (uint64_t)end;
}

static void log_open(struct log *l, const char *path)
{
	unsigned char super[SUPER_LEN];
	uint64_t magic, version;

	l->path = path;
	l->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (l->fd < 0)
		err(1, "%s", path);
	/* Nothing cached from before the log was written may be read. */
	posix_fadvise(l->fd, 0, 0, POSIX_FADV_DONTNEED);
	l->size = size_of(l->fd, path);
	if (l->size < SUPER_LEN)
		errx(1, "%s: %" PRIu64 " bytes: too small for a log", path, l->size);
	read_at(l->fd, path, super, sizeof(super), 0);
	magic = get_le(super, 8);
	version = get_le(super + 8, 8);
	l->nr = get_le(super + 16, 8);
	l->ss = (uint32_t)get_le(super + 24, 4);
	if (magic != LOG_MAGIC)
		errx(1, "%s: not a dm-log-writes log (magic %#" PRIx64 ")", path, magic);
	if (version != LOG_VERSION)
		errx(1, "%s: log version %" PRIu64 ", only %d is known", path, version,
		     LOG_VERSION);
	/* The entry header holds a mark's text: at most 4096 bytes here. */
	if (l->ss < 512 || l->ss > 4096 || (l->ss & (l->ss - 1)))
		errx(1, "%s: bad sector size %" PRIu32, path, l->ss);
	if (l->size < l->ss)
		errx(1, "%s: shorter than its super block", path);
	/* Each entry takes one header block at least. */
	if (l->nr > (l->size - l->ss) / l->ss)
		errx(1, "%s: %" PRIu64 " entries cannot fit in %" PRIu64 " bytes",
		     path, l->nr, l->size);
	l->hdr = malloc(l->ss);
	if (!l->hdr)
		errx(1, "out of memory");
	l->next = 0;
	l->pos = l->ss;
}

/* The next entry into @e: 1, or 0 at the end of the log. */
static int log_next(struct log *l, struct entry *e)
{
	uint64_t room, data_len;

	if (l->next >= l->nr)
		return 0;
	if (l->pos > l->size || l->size - l->pos < l->ss)
		errx(1, "%s: entry %" PRIu64 " at byte %" PRIu64 " is past the end",
		     l->path, l->next, l->pos);
	read_at(l->fd, l->path, l->hdr, l->ss, l->pos);
	e->idx = l->next;
	e->off = l->pos;
	e->sector = get_le(l->hdr, 8);
	e->nr_sectors = get_le(l->hdr + 8, 8);
	e->flags = get_le(l->hdr + 16, 8);
	data_len = get_le(l->hdr + 24, 8);
	e->mark[0] = 0;
	e->data_off = l->pos + l->ss;
	e->data_len = 0;
	room = l->size - e->data_off;

	if (e->flags & ~(uint64_t)F_KNOWN)
		errx(1, "%s: entry %" PRIu64 ": unknown flags %#" PRIx64,
		     l->path, e->idx, e->flags);
	if (e->flags & F_MARK) {
		/* The text shares the header block; the kernel keeps a NUL. */
		if (e->flags != F_MARK || e->nr_sectors || data_len >= l->ss - ENTRY_LEN)
			errx(1, "%s: entry %" PRIu64 ": malformed mark", l->path, e->idx);
		memcpy(e->mark, l->hdr + ENTRY_LEN, data_len);
		e->mark[data_len] = 0;
	} else {
		if (data_len)
			errx(1, "%s: entry %" PRIu64 ": data_len %" PRIu64
			     " on a write (only marks carry text)", l->path, e->idx, data_len);
		if (e->nr_sectors > UINT64_MAX / l->ss ||
		    e->sector > UINT64_MAX / l->ss - e->nr_sectors)
			errx(1, "%s: entry %" PRIu64 ": sector %" PRIu64 " + %" PRIu64
			     " overflows", l->path, e->idx, e->sector, e->nr_sectors);
		if (!(e->flags & F_DISCARD))
			e->data_len = e->nr_sectors * l->ss;
		if (e->data_len > room)
			errx(1, "%s: entry %" PRIu64 ": %" PRIu64 " bytes of data, %"
			     PRIu64 " left in the log", l->path, e->idx, e->data_len, room);
	}
	l->pos = e->data_off + e->data_len;
	l->next++;
	return 1;
}

static void print_flags(uint64_t f)
{
	static const char *const names[] = { "flush", "fua", "discard", "mark", "metadata" };
	const char *sep = "";
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (f & (1U << i)) {
			printf("%s%s", sep, names[i]);
			sep = ",";
		}
	}
	if (!*sep)
		printf("write");
}

/* A mark's text, with anything but printable ASCII as '?'. */
static void print_mark(const char *s)
{
	for (; *s; s++)
		putchar(*s > ' ' && *s < 127 ? *s : '?');
}

static void list(struct log *l)
{
	struct entry e;

	printf("# %s: %" PRIu64 " entries, sector size %" PRIu32 "\n",
	       l->path, l->nr, l->ss);
	while (log_next(l, &e)) {
		printf("%" PRIu64 " %" PRIu64 " ", e.idx, e.off);
		print_flags(e.flags);
		printf(" %" PRIu64 " %" PRIu64, e.sector, e.nr_sectors);
		if (e.flags & F_MARK) {
			putchar(' ');
			print_mark(e.mark);
		}
		putchar('\n');
	}
	printf("# end of the log at byte %" PRIu64 "\n", l->pos);
}

/*
 * Walk the marks. With @name, stop at the first mark of that name and
 * return 1, with its index and the last FLUSH/FUA index before it (-1:
 * none); without, print every mark. 0 when @name is not in the log.
 */
static int marks(struct log *l, const char *name, int64_t *mark, int64_t *flush)
{
	int64_t last = -1;
	struct entry e;

	while (log_next(l, &e)) {
		if (e.flags & (F_FLUSH | F_FUA))
			last = (int64_t)e.idx;
		if (!(e.flags & F_MARK))
			continue;
		if (!name) {
			printf("%" PRIu64 " %" PRId64 " ", e.idx, last);
			print_mark(e.mark);
			putchar('\n');
		} else if (!strcmp(e.mark, name)) {
			*mark = (int64_t)e.idx;
			*flush = last;
			return 1;
		}
	}
	return 0;
}

static void replay(struct log *l, const char *target, uint64_t from, uint64_t to)
{
	uint64_t writes = 0, discards = 0, bytes = 0, tsize, off, len, n;
	unsigned char *buf = malloc(CHUNK), *zero = calloc(1, CHUNK);
	struct entry e;
	int fd;

	if (!buf || !zero)
		errx(1, "out of memory");
	if (to >= l->nr)
		errx(1, "%s: entry %" PRIu64 " asked for, the log has %" PRIu64,
		     l->path, to, l->nr);
	fd = open(target, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		err(1, "%s", target);
	tsize = size_of(fd, target);
	while (l->next <= to && log_next(l, &e)) {
		if (e.idx < from || (e.flags & F_MARK) || !e.nr_sectors)
			continue;
		off = e.sector * l->ss;
		len = e.nr_sectors * l->ss;
		if (off > tsize || len > tsize - off)
			errx(1, "%s: entry %" PRIu64 ": sectors %" PRIu64 "+%" PRIu64
			     " are past the end of %s (%" PRIu64 " bytes)",
			     l->path, e.idx, e.sector, e.nr_sectors, target, tsize);
		for (; len; len -= n, off += n) {
			n = len < CHUNK ? len : CHUNK;
			if (e.flags & F_DISCARD) {
				write_at(fd, target, zero, n, off);
				continue;
			}
			read_at(l->fd, l->path, buf, n, e.data_off);
			write_at(fd, target, buf, n, off);
			e.data_off += n;
			bytes += n;
		}
		if (e.flags & F_DISCARD)
			discards++;
		else
			writes++;
	}
	if (fsync(fd) || close(fd))
		err(1, "%s", target);
	printf("replayed entries %" PRIu64 "..%" PRIu64 ": %" PRIu64 " writes (%"
	       PRIu64 " bytes), %" PRIu64 " discards\n", from, to, writes, bytes, discards);
	free(buf);
	free(zero);
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: dstor-logreplay --log LOG --list\n"
		"       dstor-logreplay --log LOG --points\n"
		"       dstor-logreplay --log LOG --find-mark NAME\n"
		"       dstor-logreplay --log LOG --flush-before NAME\n"
		"       dstor-logreplay --log LOG --replay TARGET --to N [--from M]\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "log", required_argument, NULL, 'l' },
		{ "list", no_argument, NULL, 'L' },
		{ "points", no_argument, NULL, 'p' },
		{ "find-mark", required_argument, NULL, 'm' },
		{ "flush-before", required_argument, NULL, 'f' },
		{ "replay", required_argument, NULL, 'r' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *logpath = NULL, *name = NULL, *target = NULL;
	uint64_t from = 0, to = 0;
	int c, cmd = 0, have_to = 0, have_from = 0;
	int64_t mark, flush;
	struct log l;

	prog = "dstor-logreplay";
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			logpath = optarg;
			break;
		case 'm':
		case 'f':
			name = optarg;
			/* fall through */
		case 'L':
		case 'p':
			if (cmd)
				usage(2);
			cmd = c;
			break;
		case 'r':
			if (cmd)
				usage(2);
			cmd = c;
			target = optarg;
			break;
		case 'F':
			from = parse_u64("--from", optarg);
			have_from = 1;
			break;
		case 't':
			to = parse_u64("--to", optarg);
			have_to = 1;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (!logpath || !cmd || optind != argc || (cmd == 'r') != have_to ||
	    (have_from && cmd != 'r') || from > to)
		usage(2);

	log_open(&l, logpath);
	switch (cmd) {
	case 'L':
		list(&l);
		break;
	case 'p':
		marks(&l, NULL, NULL, NULL);
		break;
	case 'm':
	case 'f':
		if (!marks(&l, name, &mark, &flush))
			errx(1, "%s: no mark \"%s\"", logpath, name);
		if (cmd == 'f' && flush < 0)
			errx(1, "%s: no FLUSH or FUA entry before mark \"%s\"", logpath, name);
		printf("%" PRId64 "\n", cmd == 'm' ? mark : flush);
		break;
	case 'r':
		replay(&l, target, from, to);
		break;
	}
	free(l.hdr);
	close(l.fd);
	return 0;
}

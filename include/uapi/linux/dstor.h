/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * dstor: network block device exports and imports over TCP.
 *
 * This header is the generic netlink ABI of the dstor module. Its comment is
 * the specification; Documentation/netlink.md carries the same text with
 * examples.
 *
 * Family name DSTOR_GENL_NAME ("dstor"), version DSTOR_GENL_VERSION. The
 * family is netns-aware: a command acts in the network namespace of the
 * socket it arrives on, and an export's listener or an import's connections
 * are created in that namespace (so `ip netns exec NS dstor ...` does what it
 * says). Exports, imports and syncs belong to that namespace: GET, dumps,
 * SET, DEL and events see only the caller's namespace's objects (another
 * namespace's are -ENOENT), export names are unique per namespace, and
 * when a namespace goes away its objects go with it (an import in use then
 * fails its I/O). Device numbers (/dev/dstorN) and block devices are the
 * machine's: a target or backing device is held by one object at a time.
 *
 * Every command that changes state carries GENL_ADMIN_PERM: the sender needs
 * CAP_NET_ADMIN in the initial user namespace, or gets -EPERM (without an
 * extended ACK message). DSTOR_CMD_EXPORT_ADD and DSTOR_CMD_SYNC_ADD open a
 * local block device, and need CAP_SYS_ADMIN in the initial user namespace
 * as well: -EPERM with "opening a block device needs CAP_SYS_ADMIN". So does
 * DSTOR_CMD_IMPORT_ADD with DSTOR_A_LOCAL_NAME, a name for the machine's
 * /dev: "a local name needs CAP_SYS_ADMIN".
 *
 * Validation is strict: each command has its own policy listing exactly the
 * attributes it accepts; an attribute outside that list, a wrong length, an
 * out-of-range value or an unknown flag bit is rejected with -EINVAL (or
 * -ERANGE) and an extended ACK message that names the attribute. Missing
 * required attributes are reported the same way. Attribute ids are
 * append-only.
 *
 * Commands
 * --------
 * DSTOR_CMD_EXPORT_ADD (admin, do)
 *	Serve a local block device under a name.
 *	DSTOR_A_NAME		string, 1..DSTOR_NAME_MAX-1 bytes, [A-Za-z0-9._-]
 *	DSTOR_A_DEVICE		string, path of the block device, < 256 bytes
 *	DSTOR_A_LISTEN		nested DSTOR_A_ENDPOINT_*: address and port to
 *				listen on. Exports that name the same address
 *				and port in the same namespace share one listener;
 *				the importer picks the export by name.
 *	DSTOR_A_FLAGS		u32, optional, mask of DSTOR_F_READ_ONLY
 *	DSTOR_A_KEY		binary, exactly DSTOR_KEY_LEN, optional: the
 *				pre-shared key importers must prove they hold;
 *				with it every frame is sealed (see protocol.md)
 *	DSTOR_A_ACLS		nested array of DSTOR_A_ACL, optional: the
 *				export's access list from the start (at most
 *				DSTOR_MAX_ACLS)
 *	DSTOR_A_UUID		binary, exactly DSTOR_UUID_LEN, optional, not
 *				all zero: the export's identity (default: a
 *				random UUID). An import resumes only against
 *				the identity it was made of; give the same
 *				UUID to an export that must survive an
 *				exporter reboot.
 *	DSTOR_A_MAX_SESSIONS	u32 1..DSTOR_MAX_SESSION_LIMIT, optional: the
 *				export takes at most this many sessions
 *				(importer connections); the next is refused
 *				with HELLO_REPLY status LIMIT_EXPORT. Without
 *				it, the module default (DSTOR_CMD_SET) at the
 *				time each session comes.
 *	Requires CAP_SYS_ADMIN (above).
 *	Errors: -EEXIST name in use in this namespace; -ENOENT no such device;
 *	-ENOTBLK not a block device; -EBUSY device in use (mounted, or exported
 *	already);
 *	-EADDRINUSE address taken by another socket; -EADDRNOTAVAIL no such
 *	local address.
 *
 * DSTOR_CMD_EXPORT_DEL (admin, do)
 *	DSTOR_A_NAME		the export to remove. Connected importers are
 *				disconnected; requests already submitted to the
 *				backing device complete first.
 *
 * DSTOR_CMD_EXPORT_SET (admin, do)
 *	DSTOR_A_NAME and DSTOR_A_KEY: replace the export's key. Established
 *	sessions keep their session keys; new connections need the new key.
 *	A key of DSTOR_KEY_LEN zero bytes removes the key.
 *
 * DSTOR_CMD_EXPORT_REHASH (admin, do)
 *	DSTOR_A_NAME: read the export's device again into a new tree (an
 *	export with DSTOR_A_TREE, not a multicast one), keyed with its key as
 *	it is now: for a device written behind dstor's back. The published
 *	tree is served until the new one replaces it, as the next
 *	generation. -EOPNOTSUPP without a tree or for a multicast export,
 *	-E2BIG when the old and new trees would not fit in memory together.
 *	A rehash under way starts over.
 *
 * DSTOR_CMD_EXPORT_GET (do with DSTOR_A_NAME, or dump)
 *	Replies carry DSTOR_A_NAME, DSTOR_A_DEVICE, DSTOR_A_LISTEN, DSTOR_A_FLAGS,
 *	DSTOR_A_SIZE, DSTOR_A_BLOCK_SIZE, DSTOR_A_SESSIONS (admitted now),
 *	DSTOR_A_MAX_SESSIONS (the limit in force), DSTOR_A_UUID, DSTOR_A_KEY_ID
 *	(when a key is set: the key's fingerprint, never the key), DSTOR_A_ACLS
 *	and DSTOR_A_STATS.
 *
 * DSTOR_CMD_ACL_ADD (admin, do)
 *	DSTOR_A_NAME (the export) and DSTOR_A_ACL. An entry for the same prefix
 *	is replaced. Once an export has any entry, a peer that matches none is
 *	refused at its hello; the longest matching prefix decides between
 *	read-only and read-write. Connected peers are re-checked at once:
 *	a peer now denied is disconnected, one now read-only gets write
 *	errors. -ENOSPC past DSTOR_MAX_ACLS entries.
 *
 * DSTOR_CMD_ACL_DEL (admin, do)
 *	DSTOR_A_NAME and DSTOR_A_ACL (address and prefix length; no
 *	permission). -ENOENT if there is no such entry. Removing the last entry
 *	opens the export to every peer again.
 *
 * DSTOR_CMD_ACL_GET (do)
 *	DSTOR_A_NAME; the reply carries DSTOR_A_NAME and DSTOR_A_ACLS.
 *	In every reply DSTOR_A_ACLS lists the entries longest prefix first,
 *	equal lengths IPv4 before IPv6, then by address: the same order
 *	however the entries were added.
 *
 * DSTOR_CMD_SET (admin, do)
 *	Module-wide settings, any of (at least one):
 *	DSTOR_A_CRYPTO_WORKERS u32 1..DSTOR_MAX_CRYPTO_WORKERS: how many
 *	records the crypto worker pool seals or opens at once.
 *	DSTOR_A_MAX_SESSIONS u32 1..DSTOR_MAX_SESSION_LIMIT: the session limit
 *	of exports added without their own (default
 *	DSTOR_DEFAULT_MAX_SESSIONS); also the module parameter max_sessions.
 *	DSTOR_A_MAX_HOST_SESSIONS u32 1..DSTOR_MAX_SESSION_LIMIT: sessions one
 *	peer address may hold on one listener (default
 *	DSTOR_DEFAULT_MAX_HOST_SESSIONS); the next is refused with HELLO_REPLY
 *	status LIMIT_HOST. Also the module parameter max_host_sessions.
 *	These are the machine's, not a namespace's.
 *
 * DSTOR_CMD_GET (do)
 *	Replies DSTOR_A_CRYPTO_WORKERS, DSTOR_A_CRYPTO_QUEUED (records
 *	waiting for or in the pool now), DSTOR_A_CRYPTO_POOLED (records the
 *	pool sealed or opened since the module loaded; by default none: see
 *	the module parameter seal_inline_max), DSTOR_A_MAX_SESSIONS and
 *	DSTOR_A_MAX_HOST_SESSIONS.
 *
 * DSTOR_CMD_IMPORT_ADD (admin, do)
 *	Connect to a peer's export and create /dev/dstorN.
 *	DSTOR_A_NAME		the export's name on the peer: as EXPORT_ADD's,
 *				1..DSTOR_NAME_MAX-1 bytes, [A-Za-z0-9._-]
 *	DSTOR_A_PEER		nested DSTOR_A_ENDPOINT_*: the exporter
 *	DSTOR_A_FLAGS		u32, optional, mask of DSTOR_F_READ_ONLY
 *	DSTOR_A_CONNECTIONS	u32, optional, 1..DSTOR_MAX_CONNECTIONS: TCP
 *				connections, one per blk-mq hardware queue
 *				(default min(online CPUs, 4))
 *	DSTOR_A_LOCAL_NAME	string, optional, like an export name but not
 *				"." or ".." nor ending in "-part" and one or
 *				more digits (the partitions' links): the import's
 *				name on this machine, unique on it (-EEXIST),
 *				shown in sysfs as /sys/block/dstorN/dstor/name,
 *				which the udev rule makes
 *				/dev/disk/by-dstor/NAME. Needs CAP_SYS_ADMIN.
 *				Without it the import has none.
 *	The reply carries DSTOR_A_INDEX (N of /dev/dstorN) and the same
 *	attributes as DSTOR_CMD_IMPORT_GET.
 *	Errors: -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH from connecting;
 *	-ENOENT the peer has no export of that name; -EACCES the peer refused
 *	access; -EUSERS a session limit of the peer; -EPROTONOSUPPORT no
 *	protocol version in common; -EPROTO the peer spoke something else;
 *	-ECONNRESET the peer closed during the handshake. The extended ACK
 *	says which, in words.
 *
 *	DSTOR_A_TIMEOUT, DSTOR_A_RETRIES, DSTOR_A_RECONNECT_MIN,
 *	DSTOR_A_RECONNECT_MAX, DSTOR_A_KEEPALIVE, DSTOR_A_DEAD_AFTER: optional
 *				transaction timers, as for DSTOR_CMD_IMPORT_SET
 *	DSTOR_A_KEY		binary, exactly DSTOR_KEY_LEN, optional: the
 *				export's pre-shared key. Without it the export
 *				must have none; with it, the export must have
 *				the same key (-EKEYREJECTED otherwise:
 *				"authentication failed").
 *
 * DSTOR_CMD_IMPORT_SET (admin, do)
 *	Change an import's transaction timers at run time.
 *	DSTOR_A_INDEX		the import
 *	DSTOR_A_TIMEOUT		u32 1..3600: a request unanswered this many
 *				seconds has timed out (default 30)
 *	DSTOR_A_RETRIES		u32 0..100: timeouts a request survives; at the
 *				next it fails with an I/O error (default 5). A
 *				timeout on a live connection resets the connection
 *				and the request is resent once it is back.
 *	DSTOR_A_RECONNECT_MIN, DSTOR_A_RECONNECT_MAX
 *				u32 1..3600: reconnect backoff, doubling from MIN
 *				to MAX seconds (default 1 and 30); MIN <= MAX
 *	DSTOR_A_KEEPALIVE	u32 1..3600: ping a connection that received
 *				nothing for this long (default 5)
 *	DSTOR_A_DEAD_AFTER	u32 2..3600: a connection that received nothing
 *				for this long is dead and is reconnected (default
 *				15); must exceed DSTOR_A_KEEPALIVE
 *	DSTOR_A_KEY		a new key, used from the next connection on
 *	Values not given keep their current setting.
 *
 * DSTOR_CMD_IMPORT_DEL (admin, do)
 *	DSTOR_A_INDEX or DSTOR_A_NAME (exactly one). A name that matches more
 *	than one import is -EINVAL ("ambiguous"). -EBUSY when the device is open
 *	(mounted, or held by a process).
 *
 * DSTOR_CMD_IMPORT_GET (do with DSTOR_A_INDEX, or dump)
 *	Replies carry DSTOR_A_INDEX, DSTOR_A_NAME, DSTOR_A_LOCAL_NAME (when it
 *	has one), DSTOR_A_PEER, DSTOR_A_FLAGS,
 *	DSTOR_A_SIZE, DSTOR_A_BLOCK_SIZE, DSTOR_A_UUID (the export's identity),
 *	DSTOR_A_CONNECTIONS (configured), DSTOR_A_CONNECTED (up now),
 *	DSTOR_A_STATE, DSTOR_A_REASON while the state is not connected (why,
 *	in words: the last connection loss or reconnect failure, or why the
 *	import failed), the six timers, DSTOR_A_KEY_ID and DSTOR_A_CIPHER when
 *	a key is set, and DSTOR_A_STATS.
 *	An import fails for good (I/O errors until it is deleted) when it
 *	reconnects to the same export's new incarnation (an exporter restart)
 *	whose volatile write cache may have lost writes it acknowledged: a
 *	write completed after the last completed FLUSH.
 *
 * Multicast serving (Documentation/multicast.md)
 * ---------------------------------------------
 * DSTOR_CMD_EXPORT_ADD also takes DSTOR_A_MCAST (nested DSTOR_A_MCAST_*):
 *	serve the export by IPv6 multicast on one interface of the caller's
 *	namespace. The export must be read-only (DSTOR_F_READ_ONLY); with
 *	DSTOR_A_MCAST, DSTOR_A_LISTEN is optional (no TCP listener without
 *	it). In the request: DSTOR_A_MCAST_IFINDEX (required), and optional
 *	DSTOR_A_MCAST_RATE, DSTOR_A_MCAST_BLOCK_SIZE, DSTOR_A_MCAST_QUERIER.
 *	DSTOR_CMD_EXPORT_GET replies carry DSTOR_A_MCAST with those plus
 *	DSTOR_A_MCAST_EPOCH, _ROOT, _BLOCKS, _LISTENED and _MC_STATE; the
 *	export's DSTOR_A_STATS gains the MC_* counters.
 *
 * Trees for reconciliation over TCP (Documentation/reconciliation.md)
 * -------------------------------------------------------------------
 * DSTOR_CMD_EXPORT_ADD also takes DSTOR_A_TREE (nested, optional
 *	DSTOR_A_TREE_BLOCK_SIZE, default DSTOR_MC_DEFAULT_BLOCK): keep the
 *	export's merkle tree, read from the device at once, and answer
 *	protocol version 4's TREE_INFO and TREE_FP from it. Read-only exports
 *	only. A multicast export (DSTOR_A_MCAST) has its tree anyway, of the
 *	multicast block size. DSTOR_CMD_EXPORT_GET replies of an export with a
 *	tree carry DSTOR_A_TREE: BLOCK_SIZE and BUILT, and once the tree is
 *	published LEAVES, GENERATION and ROOT; FAILED when building it failed.
 *
 * DSTOR_CMD_SYNC_ADD (admin, do)
 *	Bring a local block device up to date with an export served by
 *	multicast on a link. The sync belongs to the caller's network
 *	namespace: SYNC_GET and SYNC_DEL from another namespace do not see it
 *	(-ENOENT), and it ends when that namespace goes away.
 *	DSTOR_A_NAME		the export's name: as EXPORT_ADD's,
 *				1..DSTOR_NAME_MAX-1 bytes, [A-Za-z0-9._-]
 *	DSTOR_A_DEVICE		the target block device (opened exclusively,
 *				at least as large as the export)
 *	DSTOR_A_MCAST		nested: DSTOR_A_MCAST_IFINDEX, the interface;
 *				optional DSTOR_A_MCAST_ROOT: take only a tree
 *				with this root (others count as bad packets)
 *	or DSTOR_A_PEER		nested DSTOR_A_ENDPOINT_*: reconcile over TCP
 *				with the exporter there (protocol version 4,
 *				an export with a tree: EXPORT_ADD's
 *				DSTOR_A_TREE); optional DSTOR_A_ROOT: fail
 *				unless the export's root is this one
 *	DSTOR_A_SYNC_EVERY	optional, with DSTOR_A_PEER: seconds
 *				(DSTOR_SYNC_MIN_EVERY..DSTOR_SYNC_MAX_EVERY)
 *				from the end of one round to the next: the
 *				sync keeps the target and its tree and runs
 *				a round each interval (a connection, TREE_INFO,
 *				the descent where the roots differ, fetches);
 *				a failed round is reported and retried with
 *				the import's backoff (1 s doubling to 30 s, at
 *				most the interval). The first round failing
 *				ends the sync as without it.
 *	DSTOR_A_SYNC_SCRUB	optional, with DSTOR_A_SYNC_EVERY: seconds
 *				(at least EVERY, at most DSTOR_SYNC_MAX_EVERY)
 *				between scrubs: the round due then re-reads
 *				and re-hashes the whole target first (other
 *				rounds trust what the sync wrote and read
 *				nothing else), so that blocks changed behind
 *				the sync's back are found (SYNC_CORRUPT) and
 *				repaired.
 *	DSTOR_A_KEY		optional: the export's key
 *	DSTOR_A_SEEDS		optional: up to DSTOR_SYNC_MAX_SEEDS
 *				DSTOR_A_SEED_FD items, each a file
 *				descriptor of the caller's, open for reading,
 *				on a block device or a regular file (not the
 *				target); only with DSTOR_A_KEY or a pinned
 *				root. After hashing the target, the sync
 *				reads each seed a block of the export at a
 *				time (at multiples of the block size), and
 *				writes a block whose leaf hash a stale block
 *				of the export has to every such block; the
 *				rest comes by multicast or TCP. The sync holds the
 *				files until it ends.
 *	The reply carries DSTOR_A_INDEX (the sync's number) and the same
 *	attributes as DSTOR_CMD_SYNC_GET. -EEXIST when the target is already
 *	being synced (by a sync of any namespace).
 *
 * DSTOR_CMD_SYNC_DEL (admin, do)
 *	DSTOR_A_INDEX: stop the sync (if running) and forget it. Blocks
 *	written so far stay written; they were verified before.
 *
 * DSTOR_CMD_SYNC_GET (do with DSTOR_A_INDEX, or dump)
 *	The syncs of the caller's namespace. Replies carry DSTOR_A_INDEX,
 *	DSTOR_A_NAME, DSTOR_A_DEVICE, DSTOR_A_MCAST (IFINDEX, BLOCK_SIZE,
 *	BLOCKS, EPOCH and ROOT once known), DSTOR_A_SIZE (once known),
 *	DSTOR_A_SYNC_STATE, DSTOR_A_SYNC_ELAPSED_MS, DSTOR_A_KEY_ID when a
 *	key is set, and DSTOR_A_STATS with the SYNC_* counters. A sync over
 *	TCP has DSTOR_A_PEER instead of DSTOR_A_MCAST, DSTOR_A_TREE
 *	(BLOCK_SIZE, LEAVES, GENERATION, ROOT) once the tree is known, and
 *	DSTOR_A_REASON once it failed (a periodic sync: while its last round
 *	failed). A periodic sync has DSTOR_A_SYNC_EVERY, DSTOR_A_SYNC_SCRUB
 *	(if set) and, after its first round, DSTOR_A_SYNC_LAST_MS,
 *	DSTOR_A_SYNC_REPAIRED and (after a scrub) DSTOR_A_SYNC_CORRUPT of its
 *	last round.
 *
 * DSTOR_CMD_EVENT (notification on the "events" multicast group)
 *	Sent in the import's network namespace when a connection goes down or
 *	comes back, when requests start failing, and when the import is
 *	removed: DSTOR_A_EVENT, DSTOR_A_INDEX, DSTOR_A_NAME,
 *	DSTOR_A_LOCAL_NAME (when it has one), DSTOR_A_PEER,
 *	DSTOR_A_STATE, DSTOR_A_REASON (as in IMPORT_GET), DSTOR_A_CONNECTIONS,
 *	DSTOR_A_CONNECTED and, for connection events, DSTOR_A_QUEUE (the
 *	connection, counting from 0).
 *	A periodic sync's rounds send, in the sync's namespace,
 *	DSTOR_EVENT_SYNC_ROUND (converged) or DSTOR_EVENT_SYNC_FAILED with
 *	DSTOR_A_EVENT, DSTOR_A_INDEX (the sync's), DSTOR_A_NAME,
 *	DSTOR_A_DEVICE, DSTOR_A_PEER, DSTOR_A_SYNC_REPAIRED,
 *	DSTOR_A_SYNC_CORRUPT (a scrub's round) and DSTOR_A_REASON (failed).
 *
 * Nested attributes
 * -----------------
 * DSTOR_A_ENDPOINT_* (inside DSTOR_A_LISTEN and DSTOR_A_PEER)
 *	DSTOR_A_ENDPOINT_IPV4	binary, exactly 4 bytes, network byte order
 *	DSTOR_A_ENDPOINT_IPV6	binary, exactly 16 bytes
 *	DSTOR_A_ENDPOINT_PORT	u16, host byte order, 1..65535; in a request,
 *				optional, default DSTOR_DEFAULT_PORT
 *	DSTOR_A_ENDPOINT_IFINDEX u32, optional: scope of a link-local IPv6
 *	Exactly one of IPV4 and IPV6.
 *
 * DSTOR_A_ACL_* (inside DSTOR_A_ACL)
 *	DSTOR_A_ACL_IPV4 or DSTOR_A_ACL_IPV6 (exactly one), DSTOR_A_ACL_PREFIX_LEN
 *	(u8, at most 32 or 128; host bits must be zero), DSTOR_A_ACL_PERM (u32,
 *	DSTOR_PERM_RO or DSTOR_PERM_RW; not in ACL_DEL). IPv4 peers connecting
 *	to an IPv6 listener (::ffff:a.b.c.d) match IPv4 entries.
 *
 * DSTOR_A_STATS_* (inside DSTOR_A_STATS; all u64 counters, read-only)
 *	READS, WRITES, FLUSHES, DISCARDS, WRITE_ZEROES: requests completed
 *	READ_BYTES, WRITE_BYTES: payload bytes
 *	ERRORS: requests completed with an error
 *	INFLIGHT: requests outstanding now
 *	Imports only:
 *	RESENT: requests sent again after a reconnect
 *	TIMEOUTS: request timeouts
 *	RECONNECTS: connections re-established
 *	KEEPALIVES: pings sent on idle connections
 *	Exports only:
 *	AUTH_FAILURES: connections that failed authentication
 *	ACL_DENIED: connections refused by the access list
 *	SESSIONS_REAPED: sessions closed because the importer was silent, or
 *	did not read replies, for longer than its announced keepalive and
 *	dead-after allow
 *	SESSIONS_REFUSED: sessions refused by a session limit
 *	Both:
 *	BAD_RECORDS: sealed records that failed to open (forged, replayed,
 *	reordered or corrupted); each resets its connection
 *	Multicast exports:
 *	MC_PACKETS, MC_BYTES: multicast packets and bytes (UDP payload) sent
 *	MC_BLOCKS: blocks sent (each counted once per send)
 *	MLD_REPORTS: MLD reports seen on the interface; MLD_BAD: MLD messages
 *	ignored, malformed or not from the link (hop limit not 1, no Router
 *	Alert, a source that is not link-local), queries included;
 *	MC_QUERIES: MLD queries sent as querier
 *	Syncs:
 *	SYNC_BLOCKS: blocks of the export; SYNC_GOOD: blocks the target held
 *	already; SYNC_RECEIVED: blocks assembled from packets; SYNC_VERIFIED:
 *	blocks whose hash matched and that were written; SYNC_HASH_BAD:
 *	assembled blocks whose hash did not match (dropped, fetched again);
 *	SYNC_BYTES: data bytes received (duplicates included); SYNC_PACKETS:
 *	packets received; SYNC_PACKETS_BAD: packets dropped (bad tag, wrong
 *	epoch, malformed); SYNC_CHANNELS: channels joined now;
 *	SYNC_SEEDED: blocks copied from seeds (verified, written);
 *	SYNC_SEEDED_BYTES: their bytes, which did not travel;
 *	over TCP (DSTOR_A_PEER): SYNC_TREE_HASHES: node hashes received;
 *	SYNC_REQUESTS: requests sent (TREE_INFO, TREE_FP, READ);
 *	SYNC_WIRE_BYTES: bytes the exporter sent, as TCP counts them (added
 *	when a connection ends: once per round);
 *	periodic syncs (DSTOR_A_SYNC_EVERY): SYNC_ROUNDS: rounds that
 *	converged; SYNC_ROUNDS_FAILED: rounds that failed; SYNC_REPAIRED:
 *	blocks written after the first round; SYNC_CORRUPT: blocks a scrub
 *	found changed under the sync;
 *	SYNC_RCV_DROPS: packets a multicast sync's socket dropped, mostly
 *	with its receive buffer full (the module parameter sync_rcvbuf; a
 *	batch merged by GRO may count once); 0 over TCP
 *
 * DSTOR_A_MCAST_* (inside DSTOR_A_MCAST)
 *	IFINDEX u32: the interface, in the caller's network namespace
 *	RATE u64: bits per second the exporter sends at most (default
 *	DSTOR_MC_DEFAULT_RATE, 1 Mbit/s..100 Gbit/s)
 *	BLOCK_SIZE u32: bytes per merkle leaf, a power of two from 4 KiB to
 *	1 MiB, a multiple of the device's logical block size (default
 *	DSTOR_MC_DEFAULT_BLOCK)
 *	QUERIER flag: act as MLD querier on the link
 *	Read-only (GET): EPOCH u64, ROOT binary 32 bytes, BLOCKS u64,
 *	LISTENED u32 (channels with listeners now), MC_STATE u32 (enum
 *	dstor_mc_state)
 */
#ifndef _UAPI_LINUX_DSTOR_H
#define _UAPI_LINUX_DSTOR_H

#define DSTOR_GENL_NAME		"dstor"
#define DSTOR_GENL_VERSION	1
#define DSTOR_GENL_MCGRP_EVENTS	"events"

#define DSTOR_NAME_MAX		64	/* including the terminating NUL */
#define DSTOR_PATH_MAX		256	/* including the terminating NUL */
#define DSTOR_DEFAULT_PORT	7420
#define DSTOR_MAX_CONNECTIONS	16

enum dstor_cmd {
	DSTOR_CMD_UNSPEC,
	DSTOR_CMD_EXPORT_ADD,
	DSTOR_CMD_EXPORT_DEL,
	DSTOR_CMD_EXPORT_GET,
	DSTOR_CMD_IMPORT_ADD,
	DSTOR_CMD_IMPORT_DEL,
	DSTOR_CMD_IMPORT_GET,
	DSTOR_CMD_IMPORT_SET,
	DSTOR_CMD_EVENT,
	DSTOR_CMD_ACL_ADD,
	DSTOR_CMD_ACL_DEL,
	DSTOR_CMD_ACL_GET,
	DSTOR_CMD_SET,
	DSTOR_CMD_GET,
	DSTOR_CMD_EXPORT_SET,
	DSTOR_CMD_SYNC_ADD,
	DSTOR_CMD_SYNC_DEL,
	DSTOR_CMD_SYNC_GET,
	DSTOR_CMD_EXPORT_REHASH,

	__DSTOR_CMD_MAX,
	DSTOR_CMD_MAX = __DSTOR_CMD_MAX - 1
};

enum dstor_attr {
	DSTOR_A_UNSPEC,
	DSTOR_A_NAME,		/* string */
	DSTOR_A_DEVICE,		/* string */
	DSTOR_A_LISTEN,		/* nested DSTOR_A_ENDPOINT_* */
	DSTOR_A_PEER,		/* nested DSTOR_A_ENDPOINT_* */
	DSTOR_A_FLAGS,		/* u32, DSTOR_F_* */
	DSTOR_A_INDEX,		/* u32 */
	DSTOR_A_CONNECTIONS,	/* u32 */
	DSTOR_A_SIZE,		/* u64, bytes */
	DSTOR_A_BLOCK_SIZE,	/* u32, logical block size in bytes */
	DSTOR_A_STATE,		/* u32, enum dstor_state */
	DSTOR_A_SESSIONS,	/* u32, connected sessions of an export */
	DSTOR_A_STATS,		/* nested DSTOR_A_STATS_* */
	DSTOR_A_PAD,
	DSTOR_A_TIMEOUT,	/* u32, seconds */
	DSTOR_A_RETRIES,	/* u32 */
	DSTOR_A_RECONNECT_MIN,	/* u32, seconds */
	DSTOR_A_RECONNECT_MAX,	/* u32, seconds */
	DSTOR_A_KEEPALIVE,	/* u32, seconds */
	DSTOR_A_DEAD_AFTER,	/* u32, seconds */
	DSTOR_A_EVENT,		/* u32, enum dstor_event */
	DSTOR_A_QUEUE,		/* u32, connection index */
	DSTOR_A_CONNECTED,	/* u32, connections up now */
	DSTOR_A_KEY,		/* binary, DSTOR_KEY_LEN: write-only */
	DSTOR_A_KEY_ID,		/* binary, DSTOR_KEY_ID_LEN */
	DSTOR_A_ACL,		/* nested DSTOR_A_ACL_* */
	DSTOR_A_ACLS,		/* nested array of DSTOR_A_ACL */
	DSTOR_A_CRYPTO_WORKERS,	/* u32 */
	DSTOR_A_CRYPTO_QUEUED,	/* u32 */
	DSTOR_A_CIPHER,		/* u32, enum dstor_cipher */
	DSTOR_A_MCAST,		/* nested DSTOR_A_MCAST_* */
	DSTOR_A_SYNC_STATE,	/* u32, enum dstor_sync_state */
	DSTOR_A_SYNC_ELAPSED_MS, /* u64, since the sync started */
	DSTOR_A_MAX_SESSIONS,	/* u32: an export's session limit */
	DSTOR_A_UUID,		/* binary, DSTOR_UUID_LEN: an export's identity */
	DSTOR_A_REASON,		/* string: why an import is down or failed */
	DSTOR_A_MAX_HOST_SESSIONS, /* u32: sessions per peer address */
	DSTOR_A_LOCAL_NAME,	/* string: an import's local name */
	DSTOR_A_SEEDS,		/* nested array of DSTOR_A_SEED_FD */
	DSTOR_A_SEED_FD,	/* u32: a file descriptor of the caller's */
	DSTOR_A_TREE,		/* nested DSTOR_A_TREE_* */
	DSTOR_A_ROOT,		/* binary, DSTOR_MC_HASH_LEN: a pinned root */
	DSTOR_A_SYNC_EVERY,	/* u32, seconds between a sync's rounds */
	DSTOR_A_SYNC_SCRUB,	/* u32, seconds between a sync's scrubs */
	DSTOR_A_SYNC_LAST_MS,	/* u64, since a sync's last round ended */
	DSTOR_A_SYNC_REPAIRED,	/* u64, blocks a sync's last round wrote */
	DSTOR_A_SYNC_CORRUPT,	/* u64, blocks its last scrub found changed */
	DSTOR_A_CRYPTO_POOLED,	/* u64, records the pool sealed or opened */

	__DSTOR_A_MAX,
	DSTOR_A_MAX = __DSTOR_A_MAX - 1
};

enum dstor_endpoint_attr {
	DSTOR_A_ENDPOINT_UNSPEC,
	DSTOR_A_ENDPOINT_IPV4,		/* binary, 4 bytes, network order */
	DSTOR_A_ENDPOINT_IPV6,		/* binary, 16 bytes */
	DSTOR_A_ENDPOINT_PORT,		/* u16 */
	DSTOR_A_ENDPOINT_IFINDEX,	/* u32 */

	__DSTOR_A_ENDPOINT_MAX,
	DSTOR_A_ENDPOINT_MAX = __DSTOR_A_ENDPOINT_MAX - 1
};

enum dstor_stats_attr {
	DSTOR_A_STATS_UNSPEC,
	DSTOR_A_STATS_PAD,
	DSTOR_A_STATS_READS,
	DSTOR_A_STATS_WRITES,
	DSTOR_A_STATS_FLUSHES,
	DSTOR_A_STATS_DISCARDS,
	DSTOR_A_STATS_WRITE_ZEROES,
	DSTOR_A_STATS_READ_BYTES,
	DSTOR_A_STATS_WRITE_BYTES,
	DSTOR_A_STATS_ERRORS,
	DSTOR_A_STATS_INFLIGHT,
	DSTOR_A_STATS_RESENT,
	DSTOR_A_STATS_TIMEOUTS,
	DSTOR_A_STATS_RECONNECTS,
	DSTOR_A_STATS_KEEPALIVES,
	DSTOR_A_STATS_AUTH_FAILURES,
	DSTOR_A_STATS_ACL_DENIED,
	DSTOR_A_STATS_BAD_RECORDS,
	DSTOR_A_STATS_MC_PACKETS,
	DSTOR_A_STATS_MC_BYTES,
	DSTOR_A_STATS_MC_BLOCKS,
	DSTOR_A_STATS_MLD_REPORTS,
	DSTOR_A_STATS_MLD_BAD,
	DSTOR_A_STATS_MC_QUERIES,
	DSTOR_A_STATS_SYNC_BLOCKS,
	DSTOR_A_STATS_SYNC_GOOD,
	DSTOR_A_STATS_SYNC_RECEIVED,
	DSTOR_A_STATS_SYNC_VERIFIED,
	DSTOR_A_STATS_SYNC_HASH_BAD,
	DSTOR_A_STATS_SYNC_BYTES,
	DSTOR_A_STATS_SYNC_PACKETS,
	DSTOR_A_STATS_SYNC_PACKETS_BAD,
	DSTOR_A_STATS_SYNC_CHANNELS,
	DSTOR_A_STATS_SESSIONS_REAPED,
	DSTOR_A_STATS_SESSIONS_REFUSED,
	DSTOR_A_STATS_SYNC_SEEDED,
	DSTOR_A_STATS_SYNC_SEEDED_BYTES,
	DSTOR_A_STATS_SYNC_TREE_HASHES,
	DSTOR_A_STATS_SYNC_REQUESTS,
	DSTOR_A_STATS_SYNC_WIRE_BYTES,
	DSTOR_A_STATS_SYNC_ROUNDS,
	DSTOR_A_STATS_SYNC_ROUNDS_FAILED,
	DSTOR_A_STATS_SYNC_REPAIRED,
	DSTOR_A_STATS_SYNC_CORRUPT,
	DSTOR_A_STATS_SYNC_RCV_DROPS,

	__DSTOR_A_STATS_MAX,
	DSTOR_A_STATS_MAX = __DSTOR_A_STATS_MAX - 1
};

enum dstor_acl_attr {
	DSTOR_A_ACL_UNSPEC,
	DSTOR_A_ACL_IPV4,		/* binary, 4 bytes, network order */
	DSTOR_A_ACL_IPV6,		/* binary, 16 bytes */
	DSTOR_A_ACL_PREFIX_LEN,		/* u8: 0..32 or 0..128 */
	DSTOR_A_ACL_PERM,		/* u32, enum dstor_perm */

	__DSTOR_A_ACL_MAX,
	DSTOR_A_ACL_MAX = __DSTOR_A_ACL_MAX - 1
};

enum dstor_mcast_attr {
	DSTOR_A_MCAST_UNSPEC,
	DSTOR_A_MCAST_IFINDEX,		/* u32 */
	DSTOR_A_MCAST_RATE,		/* u64, bits per second */
	DSTOR_A_MCAST_BLOCK_SIZE,	/* u32, bytes */
	DSTOR_A_MCAST_QUERIER,		/* flag */
	DSTOR_A_MCAST_EPOCH,		/* u64 */
	DSTOR_A_MCAST_ROOT,		/* binary, DSTOR_MC_HASH_LEN */
	DSTOR_A_MCAST_BLOCKS,		/* u64 */
	DSTOR_A_MCAST_LISTENED,		/* u32 */
	DSTOR_A_MCAST_MC_STATE,		/* u32, enum dstor_mc_state */
	DSTOR_A_MCAST_PAD,

	__DSTOR_A_MCAST_MAX,
	DSTOR_A_MCAST_MAX = __DSTOR_A_MCAST_MAX - 1
};

/* DSTOR_A_TREE_* (inside DSTOR_A_TREE) */
enum {
	DSTOR_A_TREE_UNSPEC,
	DSTOR_A_TREE_BLOCK_SIZE,	/* u32, bytes */
	DSTOR_A_TREE_BUILT,		/* u32, per mille hashed */
	DSTOR_A_TREE_LEAVES,		/* u64, once published */
	DSTOR_A_TREE_GENERATION,	/* u64, once published */
	DSTOR_A_TREE_ROOT,		/* binary, DSTOR_MC_HASH_LEN */
	DSTOR_A_TREE_FAILED,		/* flag: building it failed */
	DSTOR_A_TREE_PAD,

	__DSTOR_A_TREE_MAX,
	DSTOR_A_TREE_MAX = __DSTOR_A_TREE_MAX - 1
};

/* DSTOR_A_MCAST_MC_STATE of a multicast export */
enum dstor_mc_state {
	DSTOR_MC_STATE_HASHING = 1,	/* building the merkle tree */
	DSTOR_MC_STATE_SERVING,		/* sending to whoever listens */
	DSTOR_MC_STATE_FAILED,		/* reading the device failed */
};

/* DSTOR_A_SYNC_STATE of a sync (not in the order a sync goes through them) */
enum dstor_sync_state {
	DSTOR_SYNC_STATE_WAITING = 1,	/* for the export's announcement */
	DSTOR_SYNC_STATE_TREE,		/* fetching the leaf hashes */
	DSTOR_SYNC_STATE_HASHING,	/* hashing the target */
	DSTOR_SYNC_STATE_RECEIVING,	/* fetching the differing blocks */
	DSTOR_SYNC_STATE_VERIFYING,	/* re-reading the target, root check */
	DSTOR_SYNC_STATE_DONE,		/* the target's root is the export's */
	DSTOR_SYNC_STATE_FAILED,	/* see the kernel log */
	DSTOR_SYNC_STATE_SEEDING,	/* copying blocks from the seeds */
	DSTOR_SYNC_STATE_IDLE,		/* between two rounds (--every) */
};

#define DSTOR_MC_HASH_LEN	32
#define DSTOR_MC_DEFAULT_BLOCK	(64U << 10)
#define DSTOR_MC_MIN_BLOCK	(4U << 10)
#define DSTOR_MC_MAX_BLOCK	(1U << 20)
#define DSTOR_MC_DEFAULT_RATE	100000000ULL	/* bits per second */
#define DSTOR_MC_MIN_RATE	1000000ULL
#define DSTOR_MC_MAX_RATE	100000000000ULL
#define DSTOR_MC_MAX_BLOCKS	(1U << 16)	/* leaves per export */
#define DSTOR_SYNC_MAX_SEEDS	8		/* DSTOR_A_SEEDS items */
#define DSTOR_SYNC_MIN_EVERY	10		/* seconds, EVERY and SCRUB */
#define DSTOR_SYNC_MAX_EVERY	(30 * 86400)

enum dstor_perm {
	DSTOR_PERM_RO = 1,
	DSTOR_PERM_RW,
};

enum dstor_cipher {
	DSTOR_CIPHER_NONE,
	DSTOR_CIPHER_AES_GCM,
	DSTOR_CIPHER_CHACHA20_POLY1305,
};

#define DSTOR_UUID_LEN		16
#define DSTOR_KEY_LEN		32
#define DSTOR_KEY_ID_LEN	8
#define DSTOR_MAX_ACLS		256	/* entries per export */
#define DSTOR_MAX_CRYPTO_WORKERS 256
#define DSTOR_DEFAULT_MAX_SESSIONS	4096	/* per export */
#define DSTOR_DEFAULT_MAX_HOST_SESSIONS	16384	/* per peer address */
#define DSTOR_MAX_SESSION_LIMIT		1000000

/* DSTOR_A_FLAGS */
#define DSTOR_F_READ_ONLY	(1U << 0)
#define DSTOR_F_ALL		(DSTOR_F_READ_ONLY)

/* DSTOR_A_STATE of an import */
enum dstor_state {
	DSTOR_STATE_CONNECTED = 1,	/* every connection is up */
	DSTOR_STATE_RECONNECTING,	/* a connection is down; I/O waits */
	DSTOR_STATE_FAILED,		/* down past the resend budget: I/O fails */
	DSTOR_STATE_DELETING,		/* being removed */
};

/* DSTOR_A_EVENT of a DSTOR_CMD_EVENT notification */
enum dstor_event {
	DSTOR_EVENT_LINK_LOST = 1,	/* a connection went down */
	DSTOR_EVENT_RECONNECTED,	/* a connection came back */
	DSTOR_EVENT_FAILED,		/* requests ran out of resends */
	DSTOR_EVENT_REMOVED,		/* the import was deleted */
	DSTOR_EVENT_SYNC_ROUND,		/* a sync's round converged */
	DSTOR_EVENT_SYNC_FAILED,	/* a sync's round failed */
};

/* Transaction defaults and limits (seconds unless noted). */
#define DSTOR_DEFAULT_TIMEOUT		30
#define DSTOR_DEFAULT_RETRIES		5
#define DSTOR_DEFAULT_RECONNECT_MIN	1
#define DSTOR_DEFAULT_RECONNECT_MAX	30
#define DSTOR_DEFAULT_KEEPALIVE		5
#define DSTOR_DEFAULT_DEAD_AFTER	15
#define DSTOR_MAX_SECONDS		3600
#define DSTOR_MAX_RETRIES		100

#endif /* _UAPI_LINUX_DSTOR_H */

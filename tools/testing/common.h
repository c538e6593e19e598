/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the hostile-input test tools: a seedable random number
 * generator, address parsing, time and messages.
 */
#ifndef DSTOR_TESTING_COMMON_H
#define DSTOR_TESTING_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/* splitmix64: small, fast, and the same sequence for the same seed. */
struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability pct percent. */
static inline int rng_pct(struct rng *r, unsigned int pct)
{
	return rng_below(r, 100) < pct;
}

/* The generator of item @idx of a run seeded with @seed. */
static inline struct rng rng_for(uint64_t seed, uint64_t idx)
{
	struct rng r = { seed ^ (idx + 1) * 0xd1b54a32d192ed03ULL };

	rng_next(&r);
	return r;
}

void rng_fill(struct rng *r, void *buf, size_t len);

/* A seed from the clock and the pid, when none was given. */
uint64_t seed_from_clock(void);

/* Nanoseconds from the start to event @i of a run of @rate a second. */
static inline uint64_t pace_ns(uint64_t i, uint64_t rate)
{
	return i / rate * 1000000000ULL + i % rate * 1000000000ULL / rate;
}

/* Sleep until @t0 + @ns (CLOCK_MONOTONIC); clock_nanosleep()'s result. */
int sleep_until(const struct timespec *t0, uint64_t ns);

/*
 * "192.0.2.1:7420" or "[2001:db8::1]:7420" into @ss. Returns the address
 * length, or 0 if @s is not of that form.
 */
socklen_t parse_hostport(const char *s, struct sockaddr_storage *ss);

/* "192.0.2.1:7420" / "[2001:db8::1]:7420" of @ss, in a static buffer. */
const char *fmt_addr(const struct sockaddr_storage *ss);

/* Milliseconds on the monotonic clock. */
int64_t now_ms(void);

void sleep_ms(unsigned int ms);

/* Parse a non-negative integer option; exits with a message on garbage. */
uint64_t parse_u64(const char *opt, const char *s);

extern const char *prog;

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* DSTOR_TESTING_COMMON_H */

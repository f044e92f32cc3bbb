/*
 * profile/profile_int.h — the profiler's internals: the k-user heavy-hitter
 * table (dp_kc), the k most extreme users (dp_ext), per-user state with its
 * head and tail sessions, the per-level sequence statistics, the event-name,
 * global-path and property tables, and the profiler object itself.
 *
 * Users are identified by a 64-bit hash u of their canonical id. The user
 * sample keeps users with level(u) >= drop_level, where level(u) is the
 * number of leading zero bits of u (capped at DP_LEVELS - 1): halving the
 * sample drops one whole level. Statistics that come from per-user sequences
 * (sessions, transitions, gaps, paths, session constancy) are kept per
 * level, so dropping a level removes exactly its users' contributions and
 * the result is the same as if those users had never been sampled.
 */
#ifndef DP_PROFILE_INT_H
#define DP_PROFILE_INT_H

#include <doppel/csv.h>
#include <doppel/json.h>
#include <doppel/profile.h>
#include <doppel/sketch.h>

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define DP_LEVELS 21
#define DP_PATH_DEPTH 1040 /* > the scanner's default nesting limit */
#define DP_EV_NONE UINT32_MAX
#define DP_EV_END (UINT32_MAX - 1)   /* "$end" in transitions and paths */
#define DP_EV_OTHER (UINT32_MAX - 2) /* "$other": an overflow event name */
#define DP_PROP_USER UINT32_MAX      /* event index of user properties */

/* ---- dp_kc: heavy hitters with the k smallest user hashes per entry ----
 *
 * A Misra–Gries table of at most cap entries keyed by a 64-bit item hash,
 * optionally carrying the item's bytes (truncated to DP_KC_VALUE_MAX; a
 * truncated value is never published). Each entry keeps its weight and the
 * k smallest distinct user hashes seen with it, so "at least k users" is
 * exact (a lower bound: never claimed without k distinct users seen). When
 * the table is full, a new item first triggers a reduction: every counter
 * loses the median counter value and empty entries go (error += median).
 * True weight of an item is within [count, count + error]. Merge adds
 * counters and unions user sets, then reduces by the (cap+1)-th largest
 * counter when over capacity. */
#define DP_KC_VALUE_MAX 128

typedef struct dp_kc_entry {
  uint64_t key;       /* item hash */
  uint64_t count;     /* counter (weight) */
  char *val;          /* item bytes (malloc'd) or NULL */
  uint32_t vlen;      /* bytes in val */
  uint8_t truncated;  /* 1 when the item was longer than DP_KC_VALUE_MAX */
  uint8_t vtype;      /* caller's tag (e.g. JSON type of a value) */
  uint16_t n_users;   /* user hashes held (<= k) */
} dp_kc_entry;

typedef struct dp_kc {
  dp_kc_entry *e;     /* dense entries [0, n) */
  uint64_t *users;    /* k hashes per entry slot, ascending: users[i*k .. i*k+n_users) */
  uint32_t *index;    /* open addressing: entry index + 1, 0 = empty */
  uint32_t n, cap, icap, k;
  uint32_t alloc;     /* entries allocated (grows to cap) */
  uint64_t error;     /* total subtracted from any counter */
  uint64_t total;     /* total weight added */
  int store_values;   /* entries carry their bytes */
} dp_kc;

doppel_status dp_kc_init(dp_kc *t, uint32_t cap, uint32_t k, int store_values);
void dp_kc_release(dp_kc *t);
/* Add weight for item key (bytes val[0..vlen) when the table stores values)
 * seen with user hash u. */
doppel_status dp_kc_add(dp_kc *t, uint64_t key, const char *val, size_t vlen, uint8_t vtype,
                        uint64_t u, uint64_t weight);
doppel_status dp_kc_merge(dp_kc *dst, const dp_kc *src);
/* Merge with a per-entry transform: map may rewrite e->key and e->val bytes
 * in place (e->val points to a scratch copy of DP_KC_VALUE_MAX bytes) and
 * returns 0 to skip the entry. */
typedef int (*dp_kc_map_fn)(void *ctx, dp_kc_entry *e);
doppel_status dp_kc_merge_map(dp_kc *dst, const dp_kc *src, dp_kc_map_fn map, void *ctx);
/* Entry of key or NULL. */
const dp_kc_entry *dp_kc_find(const dp_kc *t, uint64_t key);
/* Entry indexes sorted by count desc, then key; caller frees. */
uint32_t *dp_kc_sorted(const dp_kc *t);
static inline const uint64_t *dp_kc_users(const dp_kc *t, uint32_t i) { return t->users + (size_t)i * t->k; }
json_t *dp_kc_to_json(const dp_kc *t);
doppel_status dp_kc_from_json(dp_kc *t, const json_t *j, doppel_diag *diag, const char *what);

/* k-smallest distinct user set (sorted ascending, at most k). Returns 1 if changed. */
int dp_kset_add(uint64_t *set, uint16_t *n, uint32_t k, uint64_t u);

/* ---- dp_ext: the k users with the largest (or smallest) values ----
 * Exact per-user maxima of the top k users: a user's entry keeps the
 * largest value seen since it (re)entered, which equals its true maximum
 * (see extreme.c). The k-th entry is the clip bound. */
typedef struct dp_ext_item {
  uint64_t user;
  double v;
} dp_ext_item;

typedef struct dp_ext {
  dp_ext_item *it;   /* unsorted, n <= k */
  uint32_t n, k;
  uint32_t wi;       /* index of the weakest entry (valid when n == k) */
  double wv;         /* its value */
  int lowest;        /* 1 = track the smallest values instead */
} dp_ext;

doppel_status dp_ext_init(dp_ext *x, uint32_t k, int lowest);
void dp_ext_release(dp_ext *x);
void dp_ext_add(dp_ext *x, uint64_t user, double v);
void dp_ext_merge(dp_ext *dst, const dp_ext *src);
/* The k-th most extreme user's value into *out (1), or 0 when fewer than k users. */
int dp_ext_bound(const dp_ext *x, double *out);
json_t *dp_ext_to_json(const dp_ext *x);
doppel_status dp_ext_from_json(dp_ext *x, const json_t *j, doppel_diag *diag, const char *what);

/* ---- per-user state ---- */

typedef struct dp_sess {
  int64_t start, end;   /* µs of first and last event */
  uint32_t events;      /* events in the session */
  uint32_t first[3];    /* first three event indexes (DP_EV_NONE when fewer) */
  uint32_t last;        /* last event index */
} dp_sess;

#define DP_DAYBITS_WORDS 7 /* days 0..447 after the first day */

/* Session-length bins (lower bounds) for the per-user length histograms:
 * 1, 2, 3, 4, 5-6, 7-8, 9-12, 13-16, 17-24, 25-32, 33-48, 49-64, 65-128,
 * 129-256, 257-1024, 1025+. */
#define DP_LENBINS 16
extern const uint32_t dp_lenbin_lo[DP_LENBINS + 1];
uint32_t dp_lenbin_of(uint32_t len);

/* constancy slot flags: U = over the user, S = current (tail) session, H = head session */
enum {
  DP_CS_U2 = 1, DP_CS_UCH = 2,      /* seen twice / changed, user */
  DP_CS_S1 = 4, DP_CS_S2 = 8, DP_CS_SCH = 16,  /* tail session */
  DP_CS_H1 = 32, DP_CS_H2 = 64, DP_CS_HCH = 128 /* head session */
};

typedef struct dp_cslot {
  uint32_t gpath;   /* global path index */
  uint32_t uval;    /* first value hash in the user */
  uint32_t sval;    /* first value hash in the tail session */
  uint32_t hval;    /* first value hash in the head session */
  uint8_t flags;    /* DP_CS_* */
} dp_cslot;

typedef struct dp_user {
  uint64_t hash;            /* user hash u */
  uint64_t events;          /* events */
  int64_t first_us, last_us;/* first and latest event time */
  int32_t first_day, last_day; /* UTC days since the epoch */
  uint32_t active_days;     /* distinct days with events */
  uint32_t sessions;        /* sessions incl. head and tail */
  uint64_t daybits[DP_DAYBITS_WORDS]; /* bit N: active on first_day + N */
  dp_sess head, tail;       /* first session (valid when sessions >= 2) and current session */
  uint64_t late;            /* events older than the user's latest */
  uint64_t fast_gaps;       /* in-session gaps under one second */
  uint32_t max_sess_events; /* largest session (events) among finalized sessions */
  double max_sess_dur;      /* longest finalized session (s) */
  double max_gap, min_gap;  /* largest / smallest in-session gap (s); min_gap < 0: none */
  uint16_t lenbins[DP_LENBINS]; /* this user's finalized sessions by length bin (saturating) */
  uint8_t level;            /* sample level of hash */
  uint8_t in_const;         /* 1 when in the constancy sample */
  uint16_t n_cs, cap_cs;    /* constancy slots */
  dp_cslot *cs;             /* constancy slots (malloc'd) or NULL */
} dp_user;

/* ---- per-level sequence statistics ---- */

typedef struct dp_seq {
  uint64_t sessions;                /* finalized sessions */
  doppel_ddsketch *sess_events, *sess_dur, *gaps;
  uint64_t start_how[168];          /* session starts per hour of week */
  uint64_t *sess_first;             /* per event index: sessions starting with it */
  uint64_t *trans_from;             /* per event index: transitions out (incl. $end) */
  uint32_t n_ev;                    /* length of the per-event arrays */
  dp_kc trans;                      /* key from << 32 | to */
  dp_kc paths;                      /* key hash of steps; value = 3 packed u32 */
  uint64_t *sess_with, *sess_const; /* per global path: sessions with it twice / constant */
  uint32_t n_gp;
} dp_seq;

/* ---- event names ---- */

typedef struct dp_event {
  char *name;          /* bytes (unescaped), malloc'd */
  uint32_t len;
  uint64_t hash;
  uint64_t count;      /* events */
  doppel_hll *users;   /* distinct users */
  uint64_t *kset;      /* k smallest user hashes */
  uint16_t n_kset;
  uint8_t pii;         /* 1 when the name holds personal data */
  uint8_t dynamic;     /* 1 when the name looks generated (ids, URLs, e-mails) */
} dp_event;

/* ---- global paths (ledger) ---- */

#define DP_NMATCH 13
enum { DP_M_EMAIL, DP_M_PHONE, DP_M_IPV4, DP_M_IPV6, DP_M_CARD, DP_M_IBAN, DP_M_SSN,
       DP_M_UUID, DP_M_URL_PERSONAL, DP_M_COORD, DP_M_EMBEDDED, DP_M_HOSTNAME, DP_M_HEX };

typedef enum dp_canon {
  DP_CANON_NONE = 0, DP_CANON_USER, DP_CANON_DEVICE, DP_CANON_EVENT, DP_CANON_TIME,
  DP_CANON_SESSION, DP_CANON_INSERT, DP_CANON_IP
} dp_canon;

typedef struct dp_gpath {
  char *path;          /* dotted path, malloc'd */
  uint32_t len;
  uint64_t hash;
  uint8_t canon;       /* dp_canon */
  uint8_t name_kind;   /* doppel_pii_kind from the field name */
  uint8_t key_pii;     /* 1 when a segment of the path is personal data */
  uint64_t values;     /* values seen (scalars) */
  uint64_t strings;    /* string values examined */
  uint64_t match[DP_NMATCH];   /* whole-value matches */
  uint64_t embedded[DP_NMATCH];/* values with embedded finds, per kind */
  uint64_t *kset;      /* k smallest users with the path */
  uint16_t n_kset;
} dp_gpath;

/* ---- properties (per event name and path) ---- */

enum { DP_T_NULL, DP_T_BOOL, DP_T_INT, DP_T_FLOAT, DP_T_NUMSTR, DP_T_STRING, DP_T_OBJECT,
       DP_T_ARRAY, DP_T_COUNT };

typedef struct dp_prop {
  uint32_t event;      /* event index, or DP_PROP_USER */
  uint32_t gpath;      /* global path index */
  uint64_t hash;       /* of (event, path) */
  uint64_t count;      /* events with the property present and not null */
  uint64_t nulls;      /* events where it was null */
  uint64_t types[DP_T_COUNT];      /* values at the path by JSON type (an array counts once) */
  uint64_t item_types[DP_T_COUNT]; /* array elements by type */
  uint64_t scalars;    /* scalar values (strings, numbers, booleans), array elements included */
  uint64_t ts_count;   /* strings that are timestamps */
  doppel_ddsketch *ts_off; /* their offset from the event time (s) */
  doppel_ddsketch *num, *slen, *alen;
  dp_ext num_hi, num_lo, slen_hi, alen_hi;
  dp_kc values;        /* categorical candidates (cap 0 = disabled) */
  dp_kc patterns;      /* string shapes */
  doppel_hll *pat_distinct; /* distinct shapes */
  doppel_hll *distinct;
  uint8_t values_off;  /* categorical tracking stopped (id-like) */
  uint64_t *kset;      /* k smallest users with the property */
  uint16_t n_kset;
} dp_prop;

/* ---- caches ---- */

#define DP_ECACHE_SIZE 16384
typedef struct dp_ecache {
  uint64_t key;            /* value hash | 1, 0 = empty */
  uint16_t match, emb;     /* evidence bits (DP_M_*) */
} dp_ecache;

#define DP_ICACHE_SIZE 4096
typedef struct dp_icache {
  uint64_t key;            /* id hash mixed with the id field | 1 */
  uint64_t pathash;        /* hash of the pattern */
  uint8_t kind, patlen;    /* id kind, pattern length */
  char pat[40];            /* pattern */
} dp_icache;

/* ---- the profiler ---- */

#define DP_MAX_FILES 4096
#define DP_MAX_ERR_KINDS 16

typedef struct dp_errkind {
  char kind[64];
  uint64_t count;
  char lines[10][96];
  uint32_t n_lines;
} dp_errkind;

typedef struct dp_file {
  char *name;
  uint64_t records, bytes;
} dp_file;

struct doppel_profiler {
  /* parameters */
  uint32_t k;
  int64_t gap_us;
  uint64_t max_users;
  int64_t now_us;
  doppel_dialect dialect;
  doppel_format format;
  const doppel_field_map *map;
  char key_id[DOPPEL_KEY_ID_HEX + 1];
  doppel_keyed *keyed;           /* user hashing (NULL without a key) */
  char evidence[200];
  int finished;                  /* profile() was taken */
  int loaded;                    /* built from a state: takes no records */

  /* source */
  dp_file *files;
  size_t n_files, cap_files;
  uint64_t records, bytes, events;
  uint64_t malformed, no_user, no_event, no_time;
  dp_errkind errk[DP_MAX_ERR_KINDS];
  size_t n_errk;
  uint64_t time_units[5];        /* events per doppel_time_unit */
  uint32_t time_frac;            /* bit 0: a time with a fraction of a second, bit 1: of a millisecond */
  uint64_t future, ancient;      /* events after now / before 1990 */
  int64_t min_us, max_us;        /* event time range (events profiled) */

  /* population */
  doppel_hll *users_hll, *devices_hll;
  uint64_t device_events;

  /* users (sampled) */
  dp_user *users;
  size_t n_users, cap_users;
  uint32_t *uindex;              /* open addressing: user index + 1 */
  size_t ucap;
  uint32_t drop_level;           /* users with level < drop_level are not kept */
  uint32_t const_drop;           /* constancy sample: users with level < const_drop are out */
  uint64_t n_const;              /* users in the constancy sample */
  uint64_t *ucache_key, *ucache_val; /* id hash -> keyed user hash (direct mapped) */

  /* sequence statistics per level */
  dp_seq *seq[DP_LEVELS];

  /* events */
  dp_event *ev;
  size_t n_ev, cap_ev;
  uint32_t *evindex;
  size_t evcap;
  uint64_t overflow_events;      /* events of names past the name limit */
  uint64_t hour_of_week[168];
  /* per-day counts: index = day - day0 */
  int32_t day0;
  uint64_t *days;
  uint32_t n_days;
  uint64_t days_out;             /* events outside the per-day range */

  /* global paths */
  dp_gpath *gp;
  size_t n_gp, cap_gp;
  uint32_t *gpindex;
  size_t gpcap;
  uint64_t gp_overflow;

  /* properties */
  dp_prop *props;
  size_t n_props, cap_props;
  uint32_t *pindex;
  size_t pcap;
  uint64_t prop_overflow;

  /* identifiers: shape statistics of the canonical id fields */
  struct dp_idstat {
    uint64_t present;
    doppel_ddsketch *len;
    dp_ext len_hi, len_lo;
    dp_kc patterns;
    doppel_hll *pat_distinct;
    doppel_hll *distinct;
    uint64_t kinds[8];           /* email, uuid, hex, ipv4, ipv6, hostname, integer, string */
  } ids[4];                      /* user, device, session, insert */

  /* insert-id duplicates: a sampled set of (insert hash, payload hash) */
  uint64_t *ins_key, *ins_val;
  size_t ins_cap, ins_n;
  uint32_t ins_drop;             /* insert ids with level < ins_drop are not kept */
  uint64_t ins_dup_same[DP_LEVELS], ins_dup_diff[DP_LEVELS];

  /* record scratch */
  uint64_t serial;               /* records profiled so far (marks) */
  uint64_t *prop_mark;           /* per property: serial of the last record counted */
  size_t cap_mark;
  dp_buf idbuf;                  /* unescaped identifiers of the current record */
  dp_ecache *ecache;             /* privacy evidence of recent values */
  dp_icache *icache;             /* kinds and patterns of recent ids */
  doppel_json_doc doc;
  dp_buf scratch;                /* unescaped strings */
  dp_buf path;                   /* current path while walking */
  uint64_t path_h[DP_PATH_DEPTH];/* path hash per depth of the walk */
  uint32_t depth_h;              /* current depth */
  /* CSV */
  char **csv_names;              /* column names (paths) */
  size_t *csv_lens;
  char *csv_names_buf;
  size_t n_csv;
  doppel_csv_columns cols;       /* canonical columns */
  doppel_csv_field *fields;
  size_t cap_fields;
};


/* ---- functions shared by profiler.c, finalize.c and state.c ---- */

uint64_t dp_hash_mix(uint64_t a, uint64_t b);
int32_t dp_day_of(int64_t us);
int dp_how_of(int64_t us);
uint32_t dp_level_of(uint64_t u);
int dp_name_style(const char *s, size_t n);
int dp_id_kind(const char *s, size_t n);
void dp_string_pattern(const char *s, size_t n, char *out, size_t *out_len);
uint64_t dp_path_key(const uint32_t steps[3]);
void dp_daybits_shift(uint64_t *bits, uint32_t by);
void dp_errkind_add(doppel_profiler *p, const char *kind, uint64_t count, const char *pos);

doppel_status dp_seq_new(dp_seq **out, uint32_t k);
void dp_seq_free(dp_seq *s);
doppel_status dp_seq_get(doppel_profiler *p, uint32_t level, dp_seq **out);
doppel_status dp_seq_ensure_ev(dp_seq *s, uint32_t ev);
doppel_status dp_seq_ensure_gp(dp_seq *s, uint32_t gp);

doppel_status dp_event_index(doppel_profiler *p, const char *name, size_t n, uint32_t *out);
doppel_status dp_gpath_index(doppel_profiler *p, const char *path, size_t n, uint32_t *out);
/* The same with the path hash given (dp_path_hash_fold from DP_PATH_H0). */
doppel_status dp_gpath_index_h(doppel_profiler *p, const char *path, size_t n, uint64_t h, uint32_t *out);
uint64_t dp_path_hash_fold(uint64_t h, const char *s, size_t n);
doppel_status dp_prop_index(doppel_profiler *p, uint32_t event, uint32_t gpath, uint32_t *out);
doppel_status dp_prop_init(doppel_profiler *p, dp_prop *pr);
void dp_prop_release(dp_prop *pr);

dp_user *dp_user_find(doppel_profiler *p, uint64_t h);
doppel_status dp_users_rehash(doppel_profiler *p, size_t want_cap);
void dp_users_drop_levels(doppel_profiler *p);
void dp_const_shrink(doppel_profiler *p);
doppel_status dp_sess_finalize(doppel_profiler *p, dp_user *u, const dp_sess *s, int which);
void dp_cs_tail_to_head(dp_user *u);

doppel_status dp_insert_add(doppel_profiler *p, uint64_t ih, uint64_t ph);
doppel_status dp_day_add(doppel_profiler *p, int32_t day, uint64_t weight);

/* Finalize every user's open sessions into the level statistics (once). */
doppel_status dp_finish_users(doppel_profiler *p);

#endif

/*
 * synth/gen.h — generation state of one user (gen.c) and the event record
 * handed to the writers (write.c).
 */
#ifndef DP_SYNTH_GEN_H
#define DP_SYNTH_GEN_H

#include "synth/synth_int.h"

/* Parameters of one generation run. */
typedef struct dp_gen_params {
  uint64_t seed;
  int64_t start_us;     /* first day of the window (UTC midnight) */
  uint32_t days;        /* window length */
  int64_t res_us;       /* time resolution (1, 1000 or 1000000) */
  dp_alias arrival;     /* over the profile's arrival days */
  dp_alias ret;         /* over day offsets 1.. (index + 1) */
} dp_gen_params;

/* A value made for a property: bytes in the user's vals buffer. */
typedef struct dp_val {
  uint8_t type;         /* DP_VT_*; DP_VT_COUNT = absent */
  uint32_t off, len;    /* raw bytes (strings unescaped) or JSON text (numbers, bools, arrays) */
} dp_val;

/* A kept (user- or session-constant) value. */
typedef struct dp_cval {
  uint32_t off, len;
  uint8_t type, set;
  const dp_pgen *owner;        /* the property that drew it */
  const dp_pgen *from;         /* the property whose distribution it was drawn from */
  const dp_pgen *own_p[4];     /* own_value() decided for these properties (of this value) */
  uint8_t own_v[4];            /* ... with these results */
  uint8_t own_n;
} dp_cval;

typedef struct dp_user_gen {
  uint64_t u;                  /* user index */
  double rank;                 /* engagement rank in [0, 1) (sessions quantile) */
  dp_buf ids;                  /* user and device id bytes */
  uint32_t uid_off, uid_len, did_off, did_len;
  int has_uid, has_did;
  dp_buf scratch, sched;       /* active-day offsets; session starts and lengths */
  int64_t *starts;             /* planned session starts (sorted) */
  uint32_t *lens;              /* session lengths */
  uint32_t n, cur;             /* sessions, next session */
  int64_t last_end;            /* end of the previous session */
  uint64_t seq;                /* events so far */
  doppel_pcg64 vrng;           /* user-level values */
  uint8_t *umode, *smode;      /* per slot: 0 undecided, 1 constant, 2 varies */
  uint64_t *useed, *sseed;     /* constant value seeds */
  dp_cval *ucv, *scv;          /* kept values per slot (user, session) */
  dp_buf ucbuf, scbuf;         /* their bytes */
  dp_buf vals;                 /* value bytes of the current event */
  dp_val *pv, *uv;             /* property values of the current event */
  int no_props;                /* events only (pilot runs) */
} dp_user_gen;

typedef struct dp_gen_event {
  int64_t t;                   /* µs */
  uint32_t ev;                 /* event index */
  uint32_t session;            /* session number of the user */
  int64_t session_start;       /* µs */
  uint64_t seq;                /* event number of the user */
  const dp_val *pv, *uv;       /* event and user property values */
} dp_gen_event;

typedef doppel_status (*dp_event_sink)(void *ctx, dp_user_gen *ug, const dp_gen_event *e);

void dp_gen_stream(doppel_pcg64 *g, uint64_t seed, uint64_t kind, uint64_t a, uint64_t b);
size_t dp_fmt_time(int64_t us, int fmt, char *out);
/* The 36 bytes of UUID text (8-4-4-4-12 lowercase hex digits) of the 128 bits
 * hi:lo, as printf's "%08x-%04x-%04x-%04x-%012llx" of their fields; no NUL. */
void dp_uuid_text(uint64_t hi, uint64_t lo, char *out);
void dp_gen_calibrate(dp_pgen *g, const double *occ_user, const double *occ_sess);
doppel_status dp_user_gen_init(dp_user_gen *ug, const doppel_synth *s);
void dp_user_gen_release(dp_user_gen *ug);
/* Arrival day (0-based, within the window) of user u. */
uint32_t dp_user_arrival(const doppel_synth *s, const dp_gen_params *gp, uint64_t u);
doppel_status dp_user_init(dp_user_gen *ug, const doppel_synth *s, const dp_gen_params *gp, uint64_t u);
/* Generate the user's next session, calling sink for every event in time order. */
doppel_status dp_session(dp_user_gen *ug, const doppel_synth *s, const dp_gen_params *gp, dp_event_sink sink,
                         void *ctx);

doppel_status dp_gen_params_init(dp_gen_params *gp, const doppel_synth *s, uint64_t seed, int64_t start_us,
                                 uint32_t days);
void dp_gen_params_release(dp_gen_params *gp);
/* Correct eligibility and boosts by simulation; target_users[y] = share of users with event y. */
doppel_status dp_synth_pilot(doppel_synth *s, const double *target_users);

#endif

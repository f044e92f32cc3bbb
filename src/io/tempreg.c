/*
 * tempreg.c — registry of this process's open temporary output files, so a
 * signal handler can remove them (doppel_output_remove_temporaries). Slots
 * hold fixed-size copies of the paths; registration happens outside signal
 * context, removal only calls unlink(2), which is async-signal-safe.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <doppel/io.h>

#include "io/tempreg.h"

#define SLOTS 32
#define PATH_MAX_LEN 4096

static char slot_path[SLOTS][PATH_MAX_LEN];
static volatile sig_atomic_t slot_used[SLOTS];

int dp_temp_register(const char *path) {
  size_t n = strlen(path);
  if (n >= PATH_MAX_LEN) return -1;
  for (int i = 0; i < SLOTS; i++) {
    if (!slot_used[i]) {
      memcpy(slot_path[i], path, n + 1);
      slot_used[i] = 1;
      return i;
    }
  }
  return -1;
}

void dp_temp_unregister(int slot) {
  if (slot >= 0 && slot < SLOTS) slot_used[slot] = 0;
}

void doppel_output_remove_temporaries(void) {
  for (int i = 0; i < SLOTS; i++)
    if (slot_used[i]) {
      unlink(slot_path[i]);
      slot_used[i] = 0;
    }
}

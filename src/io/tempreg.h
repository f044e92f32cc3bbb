/*
 * io/tempreg.h — registry of open temporary outputs for signal-time cleanup.
 */
#ifndef DP_IO_TEMPREG_H
#define DP_IO_TEMPREG_H

/* Remember a temporary path; returns a slot (>= 0) or -1 when full. */
int dp_temp_register(const char *path);
/* Forget a slot (after rename or unlink); -1 is a no-op. */
void dp_temp_unregister(int slot);

#endif

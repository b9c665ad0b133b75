/* signals.h - SIGINT/SIGTERM turned into a flag that Lua reads between scheduler turns, so a
 * command line can stop cleanly (finish what it must record, then exit) instead of dying with a
 * traceback. Pure POSIX, no Lua. */
#ifndef STT_SIGNALS_H
#define STT_SIGNALS_H

/* Install the handler for `sig` (SIGINT or SIGTERM): the first delivery sets the flag and
 * restores the default action, so a second Ctrl-C stops the process at once. 0 or -1 (errno). */
int stt_signals_catch(int sig);

/* The signal caught since the last call (and clear it), or 0. */
int stt_signals_take(void);

#endif

/* signals.c - see signals.h.
 * The one piece of mutable global state in the core besides libcurl's one-time init: a signal
 * handler can only talk to the program through a static volatile sig_atomic_t (C99 7.14.1.1),
 * and a signal belongs to the process, not to any Lua state or engine. */
#include <signal.h>
#include <string.h>
#include "signals.h"

static volatile sig_atomic_t caught;

static void on_signal(int sig) { caught = sig; }

int stt_signals_catch(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  /* No SA_RESTART: a blocking epoll_wait/poll returns EINTR and the scheduler gets to look at
   * the flag. SA_RESETHAND: the next delivery has the default effect (a second Ctrl-C kills). */
  sa.sa_flags = SA_RESETHAND;
  return sigaction(sig, &sa, NULL);
}

int stt_signals_take(void) {
  int sig = caught;
  caught = 0;
  return sig;
}

// Stop signals for long-running commands (src/common): `seaway serve`, `seaway simulate`.
#pragma once

#include <signal.h>

namespace seaway {

// Blocks SIGINT and SIGTERM in the calling thread (call it before any thread starts, so that
// every thread inherits the mask and only sigwait/sigtimedwait on the returned set receives
// them) and ignores SIGPIPE (a peer closing a socket is an error return, not a crash).
inline sigset_t BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return stop_signals;
}

}  // namespace seaway

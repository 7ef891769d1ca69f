// Ctrl-C and SIGTERM as a request to stop at the next safe point (a training batch, a video frame)
// rather than at once: while a StopOnSignals lives, either signal only sets a flag; the previous
// handlers come back when it goes.
#pragma once
#include <csignal>

namespace lenet {

class StopOnSignals {
public:
    // second_kills: the handler resets after the first signal, so a second one ends the process
    // as usual (for loops that may block, e.g. on a stalled stream).
    explicit StopOnSignals(bool second_kills = false);
    ~StopOnSignals();
    StopOnSignals(const StopOnSignals&) = delete;
    StopOnSignals& operator=(const StopOnSignals&) = delete;

    // The signal received since construction (SIGINT or SIGTERM), or 0.
    static int received();

private:
    struct sigaction old_int_ {}, old_term_ {};
};

}  // namespace lenet

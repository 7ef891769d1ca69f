#include "core/stop_signals.h"

namespace lenet {

namespace {
volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void request_stop(int signal) { g_stop_signal = signal; }
}  // namespace

StopOnSignals::StopOnSignals(bool second_kills) {
    g_stop_signal = 0;
    struct sigaction action {};
    action.sa_handler = request_stop;
    action.sa_flags = second_kills ? SA_RESETHAND : 0;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
}

StopOnSignals::~StopOnSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
}

int StopOnSignals::received() { return g_stop_signal; }

}  // namespace lenet

#pragma once
// Named points in the tools where the failure-safety tests stop a run to kill
// it (SIGKILL cannot be aimed at an instant from outside). With
// VIRTSNAP_PAUSE_AT=NAME in the environment, reaching point NAME stops the
// process with SIGSTOP; the test then kills or continues it. Without the
// variable this does nothing. Documented in the man pages' ENVIRONMENT.

namespace virtsnap::util {

void pause_point(const char* name);

} // namespace virtsnap::util

#pragma once
// libvirt delivers events (block-job READY, domain lifecycle) only to clients
// that run an event loop, and that loop must be registered before the
// connection is opened. Connection::open() calls this.

namespace virtsnap::virt {

// Registers libvirt's default event loop implementation and runs it on a
// background thread; once per process, thread-safe. Returns false when
// libvirt refused (events are then unavailable and callers poll).
bool start_event_loop();

} // namespace virtsnap::virt

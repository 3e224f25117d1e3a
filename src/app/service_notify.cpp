#include "parley/app/service_notify.hpp"

#include <string>

#ifdef PARLEY_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace parley::app {

#ifdef PARLEY_HAVE_SYSTEMD
void notify_ready(std::string_view status) {
  std::string message = "READY=1\nSTATUS=" + std::string(status);
  sd_notify(0, message.c_str());
}

void notify_stopping() {
  sd_notify(0, "STOPPING=1\nSTATUS=closing connections and stopping");
}

#else
void notify_ready(std::string_view) {}
void notify_stopping() {}
#endif

}  // namespace parley::app

// Preloaded in front of libfaketime by shifted_ctest.sh, for two things it gets wrong when the
// whole process tree runs on a clock shifted by a fixed offset:
//
// 1. Abseil's timed waits (absl::Mutex, absl::Notification, and so gRPC's own) give the kernel an
//    absolute CLOCK_REALTIME deadline through syscall(SYS_futex, ...), which libfaketime does not
//    see: the kernel would wait until the real clock reaches the shifted deadline, days or years
//    away. Such deadlines are moved back by the offset.
// 2. libfaketime wraps the waiting calls (epoll_wait, poll, select, sleeps) and reports the real,
//    unshifted time to anything that reads the clock while one is in progress. A signal handler
//    that runs during the wait reads the wrong time: PostgreSQL's SIGALRM handler then thinks a
//    statement_timeout is days away and re-arms it. With a plain offset these calls need no
//    change, so they go straight to the C library.
#include <dlfcn.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdlib>

namespace {

// FAKETIME as shifted_ctest.sh sets it: "+N" or "-N" seconds.
long ShiftSeconds() {
  static const long shift = [] {
    const char* value = std::getenv("FAKETIME");
    return value != nullptr ? std::strtol(value, nullptr, 10) : 0L;
  }();
  return shift;
}

// The C library's own definition of `name`, past every preloaded wrapper.
template <typename Fn>
Fn Libc(const char* name) {
  static void* const libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
  return reinterpret_cast<Fn>(dlsym(libc, name));
}

using SyscallFn = long (*)(long, ...);

}  // namespace

extern "C" {

long syscall(long number, ...) noexcept {
  static const auto real = Libc<SyscallFn>("syscall");
  // The kernel takes at most six arguments; reading all six is how syscall() itself is written.
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& arg : a) arg = va_arg(ap, long);
  va_end(ap);
  if (number == SYS_futex && (a[1] & FUTEX_CLOCK_REALTIME) != 0 && a[3] != 0) {
    const long cmd = a[1] & FUTEX_CMD_MASK;
    if (cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_WAIT_REQUEUE_PI) {
      timespec deadline = *reinterpret_cast<const timespec*>(a[3]);
      deadline.tv_sec -= ShiftSeconds();
      // A deadline already in the past (Abseil passes the epoch for some) stays in the past.
      if (deadline.tv_sec < 0) deadline = timespec{0, 0};
      return real(number, a[0], a[1], a[2], reinterpret_cast<long>(&deadline), a[4], a[5]);
    }
  }
  return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int epoll_wait(int fd, epoll_event* events, int max, int timeout) {
  static const auto real = Libc<decltype(&epoll_wait)>("epoll_wait");
  return real(fd, events, max, timeout);
}

int epoll_pwait(int fd, epoll_event* events, int max, int timeout, const sigset_t* mask) {
  static const auto real = Libc<decltype(&epoll_pwait)>("epoll_pwait");
  return real(fd, events, max, timeout, mask);
}

int poll(pollfd* fds, nfds_t n, int timeout) {
  static const auto real = Libc<decltype(&poll)>("poll");
  return real(fds, n, timeout);
}

int ppoll(pollfd* fds, nfds_t n, const timespec* timeout, const sigset_t* mask) {
  static const auto real = Libc<decltype(&ppoll)>("ppoll");
  return real(fds, n, timeout, mask);
}

int select(int n, fd_set* r, fd_set* w, fd_set* e, timeval* timeout) {
  static const auto real = Libc<decltype(&select)>("select");
  return real(n, r, w, e, timeout);
}

int pselect(int n, fd_set* r, fd_set* w, fd_set* e, const timespec* timeout, const sigset_t* mask) {
  static const auto real = Libc<decltype(&pselect)>("pselect");
  return real(n, r, w, e, timeout, mask);
}

int nanosleep(const timespec* duration, timespec* left) {
  static const auto real = Libc<decltype(&nanosleep)>("nanosleep");
  return real(duration, left);
}

int usleep(useconds_t micros) {
  static const auto real = Libc<decltype(&usleep)>("usleep");
  return real(micros);
}

unsigned int sleep(unsigned int seconds) {
  static const auto real = Libc<decltype(&sleep)>("sleep");
  return real(seconds);
}

int clock_nanosleep(clockid_t clock, int flags, const timespec* until, timespec* left) {
  static const auto real = Libc<decltype(&clock_nanosleep)>("clock_nanosleep");
  if (clock == CLOCK_REALTIME && (flags & TIMER_ABSTIME) != 0 && until != nullptr) {
    timespec deadline = *until;
    deadline.tv_sec -= ShiftSeconds();
    if (deadline.tv_sec < 0) deadline = timespec{0, 0};
    return real(clock, flags, &deadline, left);
  }
  return real(clock, flags, until, left);
}

}  // extern "C"

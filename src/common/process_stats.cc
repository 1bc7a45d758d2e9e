// ProcessStats from /proc/self (src/common).
#include "common/process_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace seaway {

ProcessStats ReadProcessStats() {
  ProcessStats stats;
  const long page = sysconf(_SC_PAGESIZE);
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long size = 0, resident = 0;
    if (std::fscanf(f, "%lu %lu", &size, &resident) == 2) {
      stats.virtual_bytes = size * static_cast<uint64_t>(page);
      stats.resident_bytes = resident * static_cast<uint64_t>(page);
    }
    std::fclose(f);
  }
  if (FILE* f = std::fopen("/proc/self/stat", "r")) {
    char buf[1024];
    size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    std::fclose(f);
    // Fields after the command name, which is in parentheses and may contain spaces.
    if (const char* p = std::strrchr(buf, ')')) {
      unsigned long utime = 0, stime = 0;
      long threads = 0;
      // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
      // cutime cstime priority nice num_threads
      if (std::sscanf(p + 2,
                      "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %ld",
                      &utime, &stime, &threads) == 3) {
        stats.cpu_seconds = static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
        stats.threads = static_cast<uint64_t>(threads);
      }
    }
  }
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof(line), f)) {
      unsigned long kb = 0;
      if (std::sscanf(line, "RssAnon: %lu kB", &kb) == 1) stats.resident_anon_bytes = kb * 1024;
      if (std::sscanf(line, "RssFile: %lu kB", &kb) == 1) stats.resident_file_bytes = kb * 1024;
    }
    std::fclose(f);
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    while (struct dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++stats.open_fds;
    }
    closedir(d);
    if (stats.open_fds > 0) --stats.open_fds;  // the directory stream itself
  }
  return stats;
}

}  // namespace seaway

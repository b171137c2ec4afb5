#pragma once
// The configuration file (virtsnap-backup --config, /etc/virtsnap/virtsnap.conf
// by default): an INI file read with Boost.Program_options' config-file
// parser, whose keys are the tool's long option names, so one vocabulary
// serves the command line and the file:
//
//   output = /backup
//   keep = 7
//   exclude-domain = scratch
//   [domain:db1]
//   keep = 30
//
// Keys before any section apply to every domain; a [domain:NAME] section
// overrides them for that domain. The command line overrides both. Every
// key must name an option the file may set; anything else (an unknown key,
// a bad value, a section that is not a domain's) is a usage error naming
// the file, the line and the key.

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace virtsnap::cli {

struct ConfigEntry {
    std::string key;
    std::string value;
    int line = 0;
};

class ConfigFile {
  public:
    // Reads path; nullopt when it does not exist and !must_exist (the
    // default file, which must then be a regular file; a file the user named
    // may be a link or a pipe). At most 1 MiB is read. UsageError for a
    // file that cannot be read or parsed, naming it.
    static std::optional<ConfigFile> load(const std::string& path, bool must_exist);

    const std::string& path() const noexcept { return path_; }
    const std::vector<ConfigEntry>& global() const noexcept { return global_; }
    // The [domain:NAME] section's entries; empty when there is none.
    const std::vector<ConfigEntry>& domain(const std::string& name) const;
    // The names of the file's [domain:NAME] sections.
    std::vector<std::string> domain_sections() const;

  private:
    std::string path_;
    std::vector<ConfigEntry> global_;
    std::map<std::string, std::vector<ConfigEntry>> domains_;
};

// Stores entries into vm as values of the options in allowed (after the
// command line: what it set stays). An entry that names no option of
// allowed is refused; what it may not set says why in refused_reason
// (called with the key; empty: allowed).
void store_config_entries(const ConfigFile& file, const std::vector<ConfigEntry>& entries,
                          const boost::program_options::options_description& allowed,
                          boost::program_options::variables_map& vm,
                          const std::function<std::string(const std::string& key)>& refused_reason);

} // namespace virtsnap::cli

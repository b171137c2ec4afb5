#pragma once
// The record of an instant restore: STATE_DIR/NAME.instant. A domain
// defined by 'virtsnap-restore --instant' runs on a backup set's images
// until its own images have pulled the data in; the foreground process pins
// the sets with store::SetPin, and this record outlives it (SIGKILL, a
// reboot), so that 'virtsnap-restore --finish NAME' can complete the restore
// and a backup's retention keeps the sets the domain may still read. Written
// durably before the domain starts, removed once its images are standalone
// and the sets' files have their owners back.

#include "store/file_owner.hpp"

#include <optional>
#include <string>
#include <vector>

namespace virtsnap::store {

struct InstantRecord {
    std::string domain_name;
    std::string output_dir; // DIR: the domain's own images
    // The restore point's directory, then each set below it, resolved.
    std::vector<std::string> set_dirs;
    struct Disk {
        std::string target;         // "vda"
        std::string image;          // DIR/TARGET.qcow2
        std::string backing;        // the set's image it was created on
        std::string backing_format; // "qcow2" or "raw"
    };
    std::vector<Disk> disks;
    // Every set file the chains use, as it was before the domain started.
    std::vector<FileOwner> owners;
    // Directories (the sets' and their parents) that were given search
    // permission for others so that QEMU reaches the images; it is taken
    // away again at the end.
    std::vector<std::string> searchable;
};

// Whether name can be a record's file name as well as a domain's: no '/',
// no leading '.', no control character, at most 200 bytes.
bool is_recordable_domain_name(const std::string& name);

std::string instant_record_path(const std::string& state_dir, const std::string& domain_name);

std::string to_xml(const InstantRecord& record);
// Checks every field as hostile input (InputError naming what): clean
// absolute paths, each image directly in the output directory, each owner
// a file directly in one of the set directories (a record must not steer a
// chown elsewhere), each searchable directory a set's or one above it,
// numbers in range.
InstantRecord parse_instant_record(const std::string& text, const std::string& what);

// Writes the record durably (mode 0600, directory 0700).
void save_instant_record(const std::string& state_dir, const InstantRecord& record);
// The record of domain_name, or nullopt; one that does not parse or names
// another domain is an InputError naming the file.
std::optional<InstantRecord> load_instant_record(const std::string& state_dir,
                                                 const std::string& domain_name);
void remove_instant_record(const std::string& state_dir, const std::string& domain_name);

// Every record in state_dir that reads back (others are skipped: see
// instant_pins for their warnings), by domain name.
std::vector<InstantRecord> instant_records(const std::string& state_dir);

// Whether another record than domain_name's lists dir as searchable: two
// instant restores of one set share the permission, and the last to end
// takes it away.
bool searchable_elsewhere(const std::vector<InstantRecord>& records, const std::string& domain_name,
                          const std::string& dir);

// Two instant restores of one set: the second finds its files already
// handed to QEMU's user by the first. owner_elsewhere is the owner another
// record than domain_name's holds for path (what the first found), to be
// recorded instead of what the file has now. owners_to_restore is what
// record's restore puts back when it ends: its owners that no other record
// lists (the last to end puts back the rest; until then QEMU's user must
// keep them).
std::optional<FileOwner> owner_elsewhere(const std::vector<InstantRecord>& records,
                                         const std::string& domain_name, const std::string& path);
std::vector<FileOwner> owners_to_restore(const std::vector<InstantRecord>& records,
                                         const InstantRecord& record);

// The set ids in domain_dir that instant-restore records in state_dir name:
// the sets retention and a synthetic full must keep. A record that cannot
// be read is named in warnings (each with why it was skipped).
struct InstantPins {
    std::vector<std::string> set_ids;
    std::vector<std::string> reasons; // one per set id: "domain 'X' ... (record)"
    std::vector<std::string> warnings;
};
InstantPins instant_pins(const std::string& state_dir, const std::string& domain_dir);

} // namespace virtsnap::store

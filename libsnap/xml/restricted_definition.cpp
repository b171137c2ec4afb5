#include "xml/restricted_definition.hpp"

#include "util/error.hpp"
#include "xml/document.hpp"

#include <algorithm>

namespace virtsnap::xml {

using util::quoted;

namespace {

bool one_of(const std::string& value, std::initializer_list<const char*> allowed) {
    return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return value == a; });
}

std::vector<xmlNode*> element_children(xmlNode* node) {
    std::vector<xmlNode*> children;
    for (xmlNode* child = node->children; child; child = child->next)
        if (child->type == XML_ELEMENT_NODE)
            children.push_back(child);
    return children;
}

std::string label_of(const xmlNode* node) {
    std::string name = element_name(node);
    if (node->ns && node->ns->prefix)
        name = reinterpret_cast<const char*>(node->ns->prefix) + (":" + name);
    std::string label = "<" + name;
    for (const char* key : {"type", "device", "model"})
        if (std::optional<std::string> value = attribute(node, key)) {
            label += " " + std::string(key) + "='" + util::printable(*value) + "'";
            break;
        }
    return label + ">";
}

class Restrictor {
  public:
    Restrictor(const DefinitionLimits& limits, std::string name) : limits_(limits), name_(std::move(name)) {}

    void domain(xmlNode* root) {
        for (xmlNode* child : element_children(root)) {
            const std::string name = element_name(child);
            if (child->ns) {
                drop(child, "QEMU or another hypervisor passes it on as it is");
            } else if (name == "devices") {
                devices(child);
            } else if (name == "os") {
                os(child);
            } else if (name == "seclabel") {
                drop(child, "libvirt gives the new domain its own security label");
            } else if (one_of(name, {"bootloader", "bootloader_args", "idmap"})) {
                drop(child, "it runs or maps host programs");
            } else if (name == "sysinfo") {
                sysinfo(child);
            } else if (name == "genid") {
                xmlNodeSetContent(child, nullptr); // libvirt makes a new generation id
            } else if (name == "resource") {
                drop(child, "it places the domain in a host resource partition");
            } else if (
                !one_of(
                    name,
                    {"name",      "title",         "description",     "metadata",       "maxMemory",
                     "memory",    "currentMemory", "memoryBacking",   "vcpu",           "vcpus",
                     "iothreads", "iothreadids",   "defaultiothread", "cputune",        "memtune",
                     "blkiotune", "numatune",      "sysinfo",         "features",       "cpu",
                     "clock",     "on_poweroff",   "on_reboot",       "on_crash",       "on_lockfailure",
                     "pm",        "perf",          "keywrap",         "launchSecurity", "throttlegroups"})) {
                drop(child, "virtsnap does not know it to be harmless");
            }
        }
    }

    const std::vector<std::string>& left_out() const { return left_out_; }
    // The targets of the disks kept on restored images.
    const std::vector<std::string>& restored() const { return restored_; }

  private:
    void drop(xmlNode* node, const std::string& why) {
        left_out_.push_back(label_of(node) + " (" + why + ")");
        xmlUnlinkNode(node);
        xmlFreeNode(node);
    }

    // An fw_cfg entry with a file: QEMU reads that host file and hands it
    // to the guest whole (libvirt 6.5), another domain's image among what
    // QEMU's user may read. Entries with their value inline stay.
    void sysinfo(xmlNode* node) {
        for (xmlNode* entry : element_children(node))
            if (std::optional<std::string> file = attribute(entry, "file")) {
                left_out_.push_back("<sysinfo> entry " + quoted(attribute_or(entry, "name", "")) +
                                    " (it hands the guest the host file " + quoted(*file) + ")");
                xmlUnlinkNode(entry);
                xmlFreeNode(entry);
            }
    }

    void os(xmlNode* node) {
        bool kernel_kept = true;
        for (xmlNode* child : element_children(node)) {
            const std::string name = element_name(child);
            if (one_of(name, {"kernel", "initrd", "dtb", "loader"})) {
                const std::string path = text_of(child);
                if (limits_.trusted_boot_files.count(path) == 0) {
                    if (name == "kernel")
                        kernel_kept = false;
                    left_out_.push_back("<" + name + "> " + quoted(path) +
                                        " (a host file no domain on this host uses)");
                    xmlUnlinkNode(child);
                    xmlFreeNode(child);
                }
            } else if (name == "nvram") {
                // libvirt copies the template into the new domain's variable
                // store, which the guest reads: a boot file like the loader.
                const std::optional<std::string> source = attribute(child, "template");
                if (source && limits_.trusted_boot_files.count(*source) == 0) {
                    left_out_.push_back("<nvram> template " + quoted(*source) +
                                        " (a host file no domain on this host uses)");
                    xmlUnsetProp(child, xml_chars("template"));
                }
            } else if (name == "smbios" && attribute_or(child, "mode", "") == "host") {
                drop(child, "it shows the host's SMBIOS serial numbers to the guest");
            } else if (!one_of(name, {"type", "nvram", "cmdline", "boot", "bootmenu", "smbios", "bios",
                                      "firmware"})) {
                drop(child, "it names host files or programs");
            }
        }
        if (!kernel_kept)
            for (xmlNode* child : element_children(node))
                if (element_name(child) == "cmdline")
                    drop(child, "it belongs to the kernel left out");
    }

    void devices(xmlNode* node) {
        for (xmlNode* child : element_children(node)) {
            const std::string name = element_name(child);
            const std::string type = attribute_or(child, "type", "");
            if (name == "disk")
                disk(child);
            else if (name == "emulator")
                drop(child, "a host program; libvirt runs its own default");
            else if (name == "interface")
                interface(child, type);
            else if (one_of(name, {"serial", "parallel", "console", "channel"}))
                character_device(child, type);
            else if (name == "input" && !one_of(type, {"mouse", "keyboard", "tablet"}))
                drop(child, "it passes a host input device");
            else if (name == "graphics")
                graphics(child, type);
            else if (name == "audio" && !one_of(type, {"none", "spice"}))
                drop(child, "it opens host sound devices or files");
            else if (name == "rng")
                rng(child);
            else if (name == "tpm" && model_backend(child) != "emulator")
                drop(child, "it passes the host's TPM");
            else if (one_of(name, {"hostdev", "redirdev", "smartcard"}))
                drop(child, "it passes a host device");
            else if (one_of(name, {"filesystem", "shmem", "memory", "pstore", "lease", "crypto"}))
                drop(child, "it shares host files or memory");
            else if (!one_of(name,
                             {"controller", "input", "sound", "audio", "video", "graphics", "hub", "watchdog",
                              "memballoon", "tpm", "nvram", "panic", "iommu", "vsock", "redirfilter"}))
                drop(child, "virtsnap does not know it to be harmless");
        }
    }

    void disk(xmlNode* node) {
        xmlNode* target = child_element(node, "target");
        const std::string dev = attribute_or(target, "dev", "");
        // Kept when it is on its restored image (with_disk_source put it
        // there), once: with_disk_source moves the first disk of a target,
        // and a second one naming the same target would keep the source
        // the set gave it, a host disk or file.
        const auto image = limits_.disks.find(dev);
        if (image != limits_.disks.end() &&
            std::find(restored_.begin(), restored_.end(), dev) == restored_.end() &&
            attribute_or(node, "type", "") == "file" &&
            attribute(child_element(node, "source"), "file") == image->second.path &&
            attribute(child_element(node, "driver"), "type") == image->second.format) {
            restored_.push_back(dev);
            return;
        }
        const std::string device = attribute_or(node, "device", "disk");
        if (device == "cdrom" || device == "floppy") {
            if (xmlNode* source = child_element(node, "source")) {
                left_out_.push_back("the medium of " + device + " " + quoted(dev) + " (a host file)");
                xmlUnlinkNode(source);
                xmlFreeNode(source);
            }
            while (xmlNode* backing = child_element(node, "backingStore")) {
                xmlUnlinkNode(backing);
                xmlFreeNode(backing);
            }
            return;
        }
        drop(node, "disk " + quoted(dev) + " was not restored");
    }

    void interface(xmlNode* node, const std::string& type) {
        if (!one_of(type, {"network", "bridge", "user"})) {
            drop(node, "it uses a host device or program");
            return;
        }
        for (xmlNode* child : element_children(node))
            if (one_of(element_name(child), {"script", "downscript", "backend", "rom"}))
                drop(child, "a host program or device of an interface");
    }

    // Console files go into the restore's directory: a name chosen by the
    // set could make libvirt write the guest's output into any host file.
    // (The new identity already gave them names of their own.)
    std::string relocated(const std::string& path) const {
        const std::string base = path.substr(path.find_last_of('/') + 1);
        return limits_.files_dir + "/" +
               (base.empty() || base == "." || base == ".." ? name_ + "-console.log" : base);
    }

    void character_device(xmlNode* node, const std::string& type) {
        if (type == "file") {
            if (xmlNode* source = child_element(node, "source"))
                xmlSetProp(source, xml_chars("path"),
                           xml_chars(relocated(attribute_or(source, "path", "")).c_str()));
        } else if (type == "unix") {
            // libvirt makes the guest agent's socket itself when none is named.
            xmlNode* target = child_element(node, "target");
            if (element_name(node) != "channel" || attribute_or(target, "type", "") != "virtio") {
                drop(node, "it binds a host socket");
                return;
            }
            while (xmlNode* source = child_element(node, "source")) {
                xmlUnlinkNode(source);
                xmlFreeNode(source);
            }
        } else if (!one_of(type, {"pty", "null", "vc", "spicevmc", "spiceport", "qemu-vdagent"})) {
            drop(node, "it connects a host device, pipe or program");
            return;
        }
        if (xmlNode* log = child_element(node, "log"))
            xmlSetProp(log, xml_chars("file"), xml_chars(relocated(attribute_or(log, "file", "")).c_str()));
    }

    void graphics(xmlNode* node, const std::string& type) {
        if (!one_of(type, {"vnc", "spice"})) {
            drop(node, "virtsnap does not know it to be harmless");
            return;
        }
        xmlUnsetProp(node, xml_chars("socket"));
        for (xmlNode* child : element_children(node))
            if (element_name(child) == "listen" && attribute_or(child, "type", "") == "socket")
                drop(child, "it binds a host socket");
            else if (element_name(child) == "gl")
                drop(child, "it opens a host render device");
    }

    void rng(xmlNode* node) {
        xmlNode* backend = child_element(node, "backend");
        const std::string model = attribute_or(backend, "model", "");
        const std::string source = text_of(backend);
        if (model == "builtin" || (model == "random" && one_of(source, {"", "/dev/random", "/dev/urandom"})))
            return;
        drop(node, "it reads a host device or socket");
    }

    static std::string model_backend(xmlNode* node) {
        return attribute_or(child_element(node, "backend"), "type", "");
    }

    const DefinitionLimits& limits_;
    std::string name_;
    std::vector<std::string> left_out_;
    std::vector<std::string> restored_;
};

} // namespace

RestrictedDefinition restrict_definition(const std::string& domain_xml, const DefinitionLimits& limits,
                                         const std::string& what) {
    Document doc = Document::parse(domain_xml, what);
    if (element_name(doc.root()) != "domain")
        throw util::InputError(what + " is not a domain definition");
    Restrictor restrictor(limits, text_of(doc.select_one("/domain/name")));
    restrictor.domain(doc.root());
    for (const auto& [target, image] : limits.disks)
        if (std::find(restrictor.restored().begin(), restrictor.restored().end(), target) ==
            restrictor.restored().end())
            throw util::InputError(what + " has no disk " + quoted(target) + " for the restored image " +
                                   quoted(image.path));
    return {serialize(doc.root()->doc), restrictor.left_out()};
}

std::vector<std::string> boot_files_of(const std::string& domain_xml, const std::string& what) {
    Document doc = Document::parse(domain_xml, what);
    std::vector<std::string> files;
    for (xmlNode* node :
         doc.select("/domain/os/*[self::kernel or self::initrd or self::dtb or self::loader]"))
        files.push_back(text_of(node));
    for (xmlNode* node : doc.select("/domain/os/nvram[@template]"))
        files.push_back(attribute_or(node, "template", ""));
    return files;
}

} // namespace virtsnap::xml

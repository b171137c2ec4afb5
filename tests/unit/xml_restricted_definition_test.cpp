// What 'virtsnap-restore --define' defines from a saved definition, which
// is input from outside. The golden files fix the whole result; the checks
// beside them name each hostile element, so a regenerated golden file that
// let one through would still fail here.

#include "temp_dir.hpp"
#include "util/error.hpp"
#include "xml/document.hpp"
#include "xml/restricted_definition.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

using namespace virtsnap;
using xml::attribute_or;
using xml::text_of;

namespace {

std::string data_path(const std::string& name) {
    return (std::filesystem::path(VIRTSNAP_TEST_DATA_DIR) / "definitions" / name).string();
}

xml::DefinitionLimits limits() {
    xml::DefinitionLimits limits;
    limits.disks["vda"] = {"/restore/vm1/vda.qcow2", "qcow2"};
    limits.files_dir = "/restore/vm1";
    limits.trusted_boot_files = {"/var/lib/libvirt/boot/vmlinuz-shared"};
    return limits;
}

std::string joined_lines(const std::vector<std::string>& items) {
    std::string text;
    for (const std::string& item : items)
        text += item + "\n";
    return text;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

bool listed(const std::vector<std::string>& left_out, const std::string& start) {
    return std::any_of(left_out.begin(), left_out.end(),
                       [&](const std::string& item) { return item.rfind(start, 0) == 0; });
}

// The one element an XPath expression names in the result.
xmlNode* only(const xml::Document& doc, const std::string& xpath) {
    std::vector<xmlNode*> nodes = doc.select(xpath);
    CAPTURE(xpath);
    REQUIRE(nodes.size() == 1);
    return nodes.front();
}

} // namespace

TEST_CASE("golden: a hostile definition restricted to the restored disk and harmless devices") {
    const xml::RestrictedDefinition result =
        xml::restrict_definition(test::read_file(data_path("hostile.xml")), limits(), "the saved definition");
    if (std::getenv("VIRTSNAP_REGENERATE_GOLDEN")) {
        test::write_file(data_path("hostile.restricted.xml"), result.xml);
        test::write_file(data_path("hostile.left-out"), joined_lines(result.left_out));
    }
    CHECK(test::read_file(data_path("hostile.restricted.xml")) == result.xml);
    CHECK(test::read_file(data_path("hostile.left-out")) == joined_lines(result.left_out));
}

TEST_CASE("a hostile definition loses what runs host programs or reaches host files and devices") {
    const xml::RestrictedDefinition result =
        xml::restrict_definition(test::read_file(data_path("hostile.xml")), limits(), "the saved definition");
    const std::string& text = result.xml;
    const xml::Document doc = xml::Document::parse(text, "result");
    const std::vector<std::string>& out = result.left_out;

    // Host programs.
    CHECK_FALSE(contains(text, "commandline"));
    CHECK_FALSE(contains(text, "/etc/passwd"));
    CHECK(listed(out, "<qemu:commandline> (QEMU or another hypervisor passes it on as it is)"));
    CHECK_FALSE(contains(text, "<emulator"));
    CHECK(listed(out, "<emulator> (a host program"));
    CHECK_FALSE(contains(text, "bootloader"));
    CHECK(listed(out, "<bootloader> (it runs or maps host programs)"));
    CHECK(listed(out, "<bootloader_args> (it runs or maps host programs)"));
    // An ethernet interface runs its script: dropped whole. A network
    // interface keeps its network, without the scripts.
    CHECK_FALSE(contains(text, "evil"));
    CHECK_FALSE(contains(text, "tap0"));
    CHECK(listed(out, "<interface type='ethernet'> (it uses a host device or program)"));
    CHECK(listed(out, "<script> (a host program or device of an interface)"));
    CHECK(listed(out, "<downscript> (a host program or device of an interface)"));
    CHECK(attribute_or(only(doc, "/domain/devices/interface[@type='network']/source"), "network", "") ==
          "default");
    CHECK(doc.select("/domain/devices/interface").size() == 1);

    // Host devices and files.
    CHECK_FALSE(contains(text, "<hostdev"));
    CHECK(listed(out, "<hostdev type='pci'> (it passes a host device)"));
    CHECK_FALSE(contains(text, "<filesystem"));
    CHECK_FALSE(contains(text, "hostroot"));
    CHECK(listed(out, "<filesystem type='mount'> (it shares host files or memory)"));
    CHECK_FALSE(contains(text, "/dev/ttyS0"));
    CHECK(listed(out, "<serial type='dev'> (it connects a host device, pipe or program)"));
    CHECK_FALSE(contains(text, "/dev/input"));
    CHECK(listed(out, "<input type='passthrough'> (it passes a host input device)"));
    CHECK(doc.select("/domain/devices/input[@type='tablet']").size() == 1);
    CHECK_FALSE(contains(text, "/dev/hwrng"));
    CHECK(listed(out, "<rng model='virtio'> (it reads a host device or socket)"));
    CHECK(text_of(only(doc, "/domain/devices/rng/backend")) == "/dev/urandom");

    // Files written anywhere: console files move into the restore's directory.
    CHECK_FALSE(contains(text, "/etc/"));
    CHECK(attribute_or(only(doc, "/domain/devices/serial[target/@port='1']/source"), "path", "") ==
          "/restore/vm1/vm1-restored-serial1.log");
    CHECK(attribute_or(only(doc, "/domain/devices/serial[target/@port='2']/source"), "path", "") ==
          "/restore/vm1/vm1-restored-console.log");
    CHECK(attribute_or(only(doc, "/domain/devices/console/log"), "file", "") ==
          "/restore/vm1/vm1-restored-pty.log");

    // Host sockets: the agent's channel stays (libvirt names its socket), another goes.
    xmlNode* agent = only(doc, "/domain/devices/channel");
    CHECK(attribute_or(xml::child_element(agent, "target"), "name", "") == "org.qemu.guest_agent.0");
    CHECK(xml::child_element(agent, "source") == nullptr);
    CHECK_FALSE(contains(text, "attacker.sock"));
    CHECK(listed(out, "<channel type='unix'> (it binds a host socket)"));
    xmlNode* vnc = only(doc, "/domain/devices/graphics[@type='vnc']");
    CHECK_FALSE(xml::attribute(vnc, "socket").has_value());
    CHECK(xml::child_element(vnc, "listen") == nullptr);
    CHECK_FALSE(contains(text, "vnc.sock"));

    // Disks: the restored one as it is, a host medium taken out of its
    // drive, a disk not restored dropped.
    CHECK(attribute_or(only(doc, "/domain/devices/disk[target/@dev='vda']/source"), "file", "") ==
          "/restore/vm1/vda.qcow2");
    xmlNode* cdrom = only(doc, "/domain/devices/disk[@device='cdrom']");
    CHECK(xml::child_element(cdrom, "source") == nullptr);
    CHECK(xml::child_element(cdrom, "backingStore") == nullptr);
    CHECK_FALSE(contains(text, "shadow"));
    CHECK(listed(out, "the medium of cdrom 'hdc' (a host file)"));
    CHECK(doc.select("/domain/devices/disk[target/@dev='vdb']").empty());
    CHECK_FALSE(contains(text, "/dev/sda"));
    CHECK(listed(out, "<disk type='block'> (disk 'vdb' was not restored)"));

    // Boot files: the kernel a domain on this host uses stays with its
    // command line; the initrd no domain uses goes.
    CHECK(text_of(only(doc, "/domain/os/kernel")) == "/var/lib/libvirt/boot/vmlinuz-shared");
    CHECK(text_of(only(doc, "/domain/os/cmdline")) == "console=ttyS0 root=/dev/vda");
    CHECK(doc.select("/domain/os/initrd").empty());
    CHECK(listed(out, "<initrd> '/srv/attacker/initrd.img' (a host file no domain on this host uses)"));

    // The identity libvirt gives anew.
    CHECK(doc.select("/domain/seclabel").empty());
    CHECK(listed(out, "<seclabel type='none'>"));
    CHECK(doc.select("/domain/resource").empty());
    CHECK(text_of(only(doc, "/domain/genid")).empty());
    CHECK_FALSE(contains(text, "43dc0cf8"));

    // What is harmless stays.
    CHECK(text_of(only(doc, "/domain/name")) == "vm1-restored");
    CHECK(text_of(only(doc, "/domain/memory")) == "1048576");
    CHECK(doc.select("/domain/features/acpi").size() == 1);
    CHECK(doc.select("/domain/devices/controller[@type='usb']").size() == 1);
    CHECK(doc.select("/domain/devices/memballoon").size() == 1);
}

TEST_CASE("an untrusted kernel is left out with its command line") {
    const std::string domain = R"(<domain type='kvm'>
  <name>vm1-restored</name>
  <os>
    <type>hvm</type>
    <kernel>/srv/attacker/vmlinuz</kernel>
    <initrd>/var/lib/libvirt/boot/initrd-shared</initrd>
    <cmdline>init=/bin/sh</cmdline>
    <dtb>/srv/attacker/board.dtb</dtb>
  </os>
  <devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/restore/vm1/vda.raw'/><target dev='vda'/></disk></devices>
</domain>)";
    xml::DefinitionLimits limits;
    limits.disks["vda"] = {"/restore/vm1/vda.raw", "raw"};
    limits.files_dir = "/restore/vm1";
    limits.trusted_boot_files = {"/var/lib/libvirt/boot/initrd-shared"};
    const xml::RestrictedDefinition result = xml::restrict_definition(domain, limits, "the saved definition");
    CHECK_FALSE(contains(result.xml, "<kernel"));
    CHECK_FALSE(contains(result.xml, "<cmdline"));
    CHECK_FALSE(contains(result.xml, "<dtb"));
    CHECK(contains(result.xml, "<initrd>/var/lib/libvirt/boot/initrd-shared</initrd>"));
    CHECK(result.left_out == std::vector<std::string>{
                                 "<kernel> '/srv/attacker/vmlinuz' (a host file no domain on this host uses)",
                                 "<dtb> '/srv/attacker/board.dtb' (a host file no domain on this host uses)",
                                 "<cmdline> (it belongs to the kernel left out)"});
}

TEST_CASE("a disk the restore made that the definition lacks is an InputError") {
    const std::string domain = R"(<domain type='kvm'><name>vm1-restored</name><devices>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/restore/vm1/vda.qcow2'/><target dev='vda'/></disk>
</devices></domain>)";
    xml::DefinitionLimits limits;
    limits.disks["vda"] = {"/restore/vm1/vda.qcow2", "qcow2"};
    limits.disks["vdb"] = {"/restore/vm1/vdb.raw", "raw"};
    limits.files_dir = "/restore/vm1";
    CHECK_THROWS_WITH_AS(xml::restrict_definition(domain, limits, "the saved definition"),
                         doctest::Contains("the saved definition has no disk 'vdb' for the restored image "
                                           "'/restore/vm1/vdb.raw'"),
                         util::InputError);
    CHECK_THROWS_AS(
        xml::restrict_definition("<network><name>n</name></network>", limits, "the saved definition"),
        util::InputError);
    CHECK_THROWS_AS(xml::restrict_definition("<domain><devices>", limits, "the saved definition"),
                    util::InputError);
}

TEST_CASE("a disk is kept only on its restored image, and only once") {
    xml::DefinitionLimits limits;
    limits.disks["vda"] = {"/restore/vm1/vda.qcow2", "qcow2"};
    limits.files_dir = "/restore/vm1";
    // A second disk claiming the restored disk's target: the restore put
    // the first on the image, the second would hand the guest a host disk.
    const std::string twice = R"(<domain type='kvm'><name>vm1-restored</name><devices>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/restore/vm1/vda.qcow2'/><target dev='vda'/></disk>
  <disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/sda'/><target dev='vda'/></disk>
</devices></domain>)";
    const xml::RestrictedDefinition result = xml::restrict_definition(twice, limits, "the saved definition");
    CHECK_FALSE(contains(result.xml, "/dev/sda"));
    CHECK(contains(result.xml, "/restore/vm1/vda.qcow2"));
    REQUIRE(result.left_out.size() == 1);
    CHECK(contains(result.left_out[0], "<disk type='block'>"));

    // A disk on the restored target but not on the restored image is no restored disk.
    const std::string elsewhere = R"(<domain type='kvm'><name>vm1-restored</name><devices>
  <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/etc/shadow'/><target dev='vda'/></disk>
</devices></domain>)";
    CHECK_THROWS_WITH_AS(xml::restrict_definition(elsewhere, limits, "the saved definition"),
                         doctest::Contains("has no disk 'vda' for the restored image"), util::InputError);
}

TEST_CASE("fw_cfg entries naming a host file are left out, inline ones stay") {
    // QEMU reads the file and hands it to the guest whole: another domain's
    // image, while libvirt has it owned by QEMU's user, for one.
    const std::string domain = R"(<domain type='kvm'><name>vm1-restored</name>
  <sysinfo type='fwcfg'>
    <entry name='opt/com.example/inline'>a value</entry>
    <entry name='opt/com.example/leak' file='/var/lib/libvirt/images/other.qcow2'/>
  </sysinfo>
  <devices/>
</domain>)";
    xml::DefinitionLimits limits;
    limits.files_dir = "/restore/vm1";
    const xml::RestrictedDefinition result = xml::restrict_definition(domain, limits, "the saved definition");
    CHECK_FALSE(contains(result.xml, "other.qcow2"));
    CHECK(contains(result.xml, "<entry name=\"opt/com.example/inline\">a value</entry>"));
    REQUIRE(result.left_out.size() == 1);
    CHECK(contains(result.left_out[0], "'opt/com.example/leak'"));
    CHECK(contains(result.left_out[0], "'/var/lib/libvirt/images/other.qcow2'"));
}

TEST_CASE("an NVRAM template is a boot file: kept only when a domain on this host uses it") {
    // libvirt copies the template into the new domain's variable store,
    // which the guest reads: another domain's store would be copied whole.
    const std::string domain = R"(<domain type='kvm'><name>vm1-restored</name><os>
  <type>hvm</type>
  <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>
  <nvram template='/var/lib/libvirt/qemu/nvram/other_VARS.fd'/>
</os><devices/></domain>)";
    xml::DefinitionLimits limits;
    limits.files_dir = "/restore/vm1";
    limits.trusted_boot_files = {"/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"};
    xml::RestrictedDefinition result = xml::restrict_definition(domain, limits, "the saved definition");
    CHECK_FALSE(contains(result.xml, "other_VARS.fd"));
    CHECK(contains(result.xml, "/usr/share/OVMF/OVMF_CODE.fd"));
    CHECK(result.left_out ==
          std::vector<std::string>{"<nvram> template '/var/lib/libvirt/qemu/nvram/other_VARS.fd' "
                                   "(a host file no domain on this host uses)"});

    // A template some domain here uses is among the boot files it names.
    const std::string user = R"(<domain type='kvm'><name>other</name><os><type>hvm</type>
  <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>
  <nvram template='/var/lib/libvirt/qemu/nvram/other_VARS.fd'>/var/lib/libvirt/qemu/nvram/x_VARS.fd</nvram>
</os></domain>)";
    const std::vector<std::string> used = xml::boot_files_of(user, "domain 'other'");
    CHECK(std::count(used.begin(), used.end(), "/var/lib/libvirt/qemu/nvram/other_VARS.fd") == 1);
    CHECK(std::count(used.begin(), used.end(), "/var/lib/libvirt/qemu/nvram/x_VARS.fd") == 0);
    limits.trusted_boot_files.insert(used.begin(), used.end());
    result = xml::restrict_definition(domain, limits, "the saved definition");
    CHECK(contains(result.xml, "template=\"/var/lib/libvirt/qemu/nvram/other_VARS.fd\""));
    CHECK(result.left_out.empty());
}

TEST_CASE("boot_files_of names the kernel, initrd, device tree and loader a definition uses") {
    const std::string domain = R"(<domain type='kvm'><name>vm</name><os>
  <type>hvm</type>
  <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>
  <nvram>/var/lib/libvirt/qemu/nvram/vm_VARS.fd</nvram>
  <kernel>/boot/vmlinuz</kernel>
  <initrd>/boot/initrd.img</initrd>
  <dtb>/boot/board.dtb</dtb>
  <cmdline>console=ttyS0</cmdline>
</os></domain>)";
    CHECK(xml::boot_files_of(domain, "domain 'vm'") ==
          std::vector<std::string>{"/usr/share/OVMF/OVMF_CODE.fd", "/boot/vmlinuz", "/boot/initrd.img",
                                   "/boot/board.dtb"});
    CHECK(xml::boot_files_of("<domain><name>vm</name><os><type>hvm</type></os></domain>", "domain 'vm'")
              .empty());
    CHECK_THROWS_AS(xml::boot_files_of("<domain>", "domain 'vm'"), util::InputError);
}

#include "util/error.hpp"
#include "xml/domain_identity.hpp"

#include <doctest/doctest.h>

using namespace virtsnap;

TEST_CASE("a restored domain gets a new name and loses its UUID and MAC addresses, nothing else") {
    const std::string original = R"(<domain type='qemu'>
  <name>vm1</name>
  <uuid>6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11</uuid>
  <title>vm1 &amp; friends</title>
  <os><type>hvm</type><loader type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader><nvram template='/usr/share/OVMF/OVMF_VARS.fd'>/var/lib/libvirt/qemu/nvram/vm1_VARS.fd</nvram></os>
  <devices>
    <disk type='file' device='disk'><source file='/i/vm1.qcow2'/><target dev='vda'/></disk>
    <interface type='network'><mac address='52:54:00:12:34:56'/><source network='default'/></interface>
    <interface type='bridge'><mac address='52:54:00:65:43:21'/><source bridge='br0'/></interface>
    <serial type='file'><source path='/var/log/vm1/console.log'/><target port='0'/></serial>
    <serial type='pty'><log file='/var/log/vm1/pty.log'/><target port='1'/></serial>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
  </devices>
</domain>)";
    const std::string renamed = xml::as_new_domain(original, "vm1 <restored>", "test");
    CHECK(xml::domain_name_of(renamed, "renamed") == "vm1 <restored>");
    CHECK(renamed.find("<uuid>") == std::string::npos);
    CHECK(renamed.find("52:54:00") == std::string::npos);
    CHECK(renamed.find("<mac") == std::string::npos);
    CHECK(renamed.find("source network=\"default\"") != std::string::npos);
    CHECK(renamed.find("bridge=\"br0\"") != std::string::npos);
    CHECK(renamed.find("/i/vm1.qcow2") != std::string::npos);
    CHECK(renamed.find("vm1 &amp; friends") != std::string::npos);
    CHECK(renamed.find("&lt;restored&gt;") != std::string::npos);
    CHECK(renamed.find("/var/log/vm1/vm1 &lt;restored&gt;-console.log") != std::string::npos);
    CHECK(renamed.find("/var/log/vm1/vm1 &lt;restored&gt;-pty.log") != std::string::npos);
    CHECK(renamed.find("vm1_VARS.fd") == std::string::npos);
    CHECK(renamed.find("template=\"/usr/share/OVMF/OVMF_VARS.fd\"") != std::string::npos);
}

TEST_CASE("what is not a domain definition is an InputError") {
    CHECK_THROWS_AS(xml::as_new_domain("<network><name>x</name></network>", "y", "t"), util::InputError);
    CHECK_THROWS_AS(xml::as_new_domain("<domain", "y", "t"), util::InputError);
    CHECK_THROWS_AS(xml::domain_name_of("<domain/>", "t"), util::InputError);
}

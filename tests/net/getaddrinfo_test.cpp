// getaddrinfo / getnameinfo, IDNA encoding and the custom resolver hook.
#include "net_test_util.hpp"

#include <trellis/testing/gtest.hpp>
#include <trellis/trellis.hpp>

#include <netdb.h>

#include <string>
#include <vector>

using namespace std::chrono_literals;
using trellis::task;
using namespace trellis::net;

namespace {

// A resolver that answers every name with fixed addresses and records what
// it was asked.
class fake_resolver final : public hostname_resolver {
public:
    std::vector<std::string> asked;
    bool hang = false;
    task<std::vector<addrinfo_entry>> getaddrinfo(std::string host, std::string service, addrinfo_hints) override {
        asked.push_back(host);
        if (hang) co_await trellis::sleep_forever();
        addrinfo_entry e;
        e.family = AF_INET;
        e.type = SOCK_STREAM;
        e.address = socket_address::ipv4("127.0.0.9", static_cast<std::uint16_t>(std::stoi(service)));
        co_return std::vector<addrinfo_entry>{e};
    }
    task<std::pair<std::string, std::string>> getnameinfo(socket_address address, int) override {
        co_return std::pair<std::string, std::string>{"fake-" + address.host(), "fake-service"};
    }
};

TRELLIS_TEST(Getaddrinfo, ANumericHostResolvesWithoutTheResolver) {
    auto fake = std::make_shared<fake_resolver>();
    set_custom_hostname_resolver(fake);
    auto v4 = co_await getaddrinfo("127.0.0.1", "80", {.type = SOCK_STREAM});
    auto v6 = co_await getaddrinfo("::1", "80", {.type = SOCK_STREAM});
    EXPECT_EQ(v4.size(), 1u);
    EXPECT_EQ(v6.size(), 1u);
    if (!v4.empty()) {
        EXPECT_EQ(v4[0].address.to_string(), "127.0.0.1:80");
    }
    if (!v6.empty()) {
        EXPECT_EQ(v6[0].address.to_string(), "[::1]:80");
    }
    EXPECT_TRUE(fake->asked.empty());
}

TRELLIS_TEST(Getaddrinfo, ANameGoesToTheCustomResolver) {
    auto fake = std::make_shared<fake_resolver>();
    set_custom_hostname_resolver(fake);
    auto found = co_await getaddrinfo("service.example", "81");
    EXPECT_EQ(found.size(), 1u);
    if (!found.empty()) {
        EXPECT_EQ(found[0].address.to_string(), "127.0.0.9:81");
    }
    EXPECT_EQ(fake->asked, std::vector<std::string>{"service.example"});
}

TRELLIS_TEST(Getaddrinfo, ANonAsciiNameReachesTheResolverIdnaEncoded) {
    auto fake = std::make_shared<fake_resolver>();
    set_custom_hostname_resolver(fake);
    (void)co_await getaddrinfo("B\xC3\xBC" "cher.example", "80");
    EXPECT_EQ(fake->asked, std::vector<std::string>{"xn--bcher-kva.example"});
}

TRELLIS_TEST(Getaddrinfo, SetCustomResolverReturnsThePreviousOne) {
    auto first = std::make_shared<fake_resolver>();
    auto second = std::make_shared<fake_resolver>();
    EXPECT_EQ(set_custom_hostname_resolver(first), nullptr);
    EXPECT_EQ(set_custom_hostname_resolver(second), first);
    EXPECT_EQ(set_custom_hostname_resolver(nullptr), second);
    co_return;
}

TRELLIS_TEST_MOCK_CLOCK(Getaddrinfo, ACancelledLookupReturnsAtOnce, clock) {
    (void)clock;
    auto fake = std::make_shared<fake_resolver>();
    fake->hang = true;
    set_custom_hostname_resolver(fake);
    bool finished = co_await trellis::move_on_after(1s, [&]() -> task<> { (void)co_await getaddrinfo("slow.example", "80"); });
    EXPECT_FALSE(finished);
}


TEST(Getaddrinfo, LocalhostResolvesOnAWorkerThread) {
    if (!net_test::system_resolves_localhost()) GTEST_SKIP() << "this system's resolver does not know localhost";
    trellis::testing::run_test([]() -> trellis::task<> {
        auto found = co_await getaddrinfo("localhost", "80", {.family = AF_INET, .type = SOCK_STREAM});
        EXPECT_FALSE(found.empty());
        if (!found.empty()) {
            EXPECT_EQ(found[0].address.host(), "127.0.0.1");
        }
    });
}

TRELLIS_TEST(Getaddrinfo, AFailedLookupNamesTheHost) {
    std::string message;
    try {
        (void)co_await getaddrinfo("no-such-host.invalid", "80");
    } catch (const gaierror& e) {
        message = e.what();
    } catch (const std::system_error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("no-such-host.invalid"), std::string::npos) << message;
}

TRELLIS_TEST(Getnameinfo, NumericFlagsGiveTheAddressBack) {
    auto names = co_await getnameinfo(socket_address::ipv4("127.0.0.1", 8080), NI_NUMERICHOST | NI_NUMERICSERV);
    EXPECT_EQ(names.first, "127.0.0.1");
    EXPECT_EQ(names.second, "8080");
}

TRELLIS_TEST(Getnameinfo, GoesToTheCustomResolver) {
    set_custom_hostname_resolver(std::make_shared<fake_resolver>());
    auto names = co_await getnameinfo(socket_address::ipv4("127.0.0.1", 1));
    EXPECT_EQ(names.first, "fake-127.0.0.1");
}

TEST(IdnaEncode, LeavesAsciiNamesAlone) { EXPECT_EQ(idna_encode("Example.COM"), "Example.COM"); }

TEST(IdnaEncode, EncodesEachNonAsciiLabelInPunycode) {
    EXPECT_EQ(idna_encode("m\xC3\xBCnchen.de"), "xn--mnchen-3ya.de");
    EXPECT_EQ(idna_encode("\xE4\xBE\x8B\xE3\x81\x88.jp"), "xn--r8jz45g.jp");  // 例え
    EXPECT_EQ(idna_encode("b\xC3\xBC" "cher.example"), "xn--bcher-kva.example");
}

TEST(IdnaEncode, RejectsInvalidUtf8) { EXPECT_THROW(idna_encode("bad\xC3"), std::invalid_argument); }

TEST(GaiCategory, NamesTheError) {
    gaierror e(EAI_NONAME, "lookup of x");
    EXPECT_NE(std::string(e.what()).find("lookup of x"), std::string::npos);
    EXPECT_EQ(&e.code().category(), &gai_category());
}

}  // namespace

// socket_address: building, parsing and formatting addresses.
#include <trellis/net/socket_address.hpp>

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <stdexcept>
#include <string>

using trellis::net::socket_address;

namespace {

TEST(SocketAddress, ParsesAndFormatsIPv4) {
    auto a = socket_address::parse("127.0.0.1:8080");
    EXPECT_EQ(a.family(), AF_INET);
    EXPECT_EQ(a.host(), "127.0.0.1");
    EXPECT_EQ(a.port(), 8080);
    EXPECT_EQ(a.to_string(), "127.0.0.1:8080");
    EXPECT_EQ(a.size(), sizeof(sockaddr_in));
}

TEST(SocketAddress, ParsesAndFormatsIPv6InBrackets) {
    auto a = socket_address::parse("[::1]:443");
    EXPECT_EQ(a.family(), AF_INET6);
    EXPECT_EQ(a.host(), "::1");
    EXPECT_EQ(a.port(), 443);
    EXPECT_EQ(a.to_string(), "[::1]:443");
}

TEST(SocketAddress, KeepsANumericIPv6Scope) {
    auto a = socket_address::parse("[fe80::1%2]:80");
    EXPECT_EQ(a.scope_id(), 2u);
    EXPECT_EQ(a.to_string(), "[fe80::1%2]:80");
}

TEST(SocketAddress, ResolvesAnInterfaceNameScope) {
    auto a = socket_address::ipv6("fe80::1%lo", 80);
    EXPECT_NE(a.scope_id(), 0u);
}

TEST(SocketAddress, ParsesAUnixPath) {
    auto a = socket_address::parse("/tmp/x.sock");
    EXPECT_EQ(a.family(), AF_UNIX);
    EXPECT_EQ(a.host(), "/tmp/x.sock");
    EXPECT_EQ(a.to_string(), "/tmp/x.sock");
}

TEST(SocketAddress, ParsesAnAbstractUnixNameWrittenWithAnAt) {
    auto a = socket_address::parse("@trellis-test");
    EXPECT_EQ(a.family(), AF_UNIX);
    EXPECT_EQ(a.host(), "@trellis-test");
    EXPECT_EQ(a, socket_address::unix_path(std::string("\0trellis-test", 13)));
}

TEST(SocketAddress, RejectsTextThatIsNoAddressNamingIt) {
    for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "::1:80", "[::1]80", "host:80",
                            "1.2.3.4:8x"}) {
        try {
            socket_address::parse(bad);
            ADD_FAILURE() << "accepted \"" << bad << "\"";
        } catch (const std::invalid_argument& e) {
            EXPECT_NE(std::string(e.what()).find(std::string("\"") + bad + "\""), std::string::npos) << e.what();
        }
    }
}

TEST(SocketAddress, RejectsAnOverlongUnixPath) {
    EXPECT_THROW(socket_address::unix_path("/" + std::string(200, 'x')), std::invalid_argument);
}

TEST(SocketAddress, ComparesByValue) {
    EXPECT_EQ(socket_address::ipv4("10.0.0.1", 5), socket_address::parse("10.0.0.1:5"));
    EXPECT_FALSE(socket_address::ipv4("10.0.0.1", 5) == socket_address::ipv4("10.0.0.1", 6));
}

}  // namespace

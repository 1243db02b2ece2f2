// trellis::exception_group: several errors raised together.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct alpha_error : std::runtime_error {
    alpha_error() : std::runtime_error("alpha went wrong") {}
};
struct beta_error : std::logic_error {
    beta_error() : std::logic_error("beta went wrong") {}
};
struct not_a_std_exception {};

std::vector<std::exception_ptr> two_errors() {
    return {std::make_exception_ptr(alpha_error()), std::make_exception_ptr(beta_error())};
}

}  // namespace

TEST(ExceptionGroup, WhatNamesEveryInnerErrorWithItsTypeAndMessage) {
    trellis::exception_group g(two_errors());
    const std::string what = g.what();
    EXPECT_NE(what.find("2 errors"), std::string::npos) << what;
    EXPECT_NE(what.find("alpha_error"), std::string::npos) << what;
    EXPECT_NE(what.find("alpha went wrong"), std::string::npos) << what;
    EXPECT_NE(what.find("beta_error"), std::string::npos) << what;
    EXPECT_NE(what.find("beta went wrong"), std::string::npos) << what;
    EXPECT_LT(what.find("alpha went wrong"), what.find("beta went wrong")) << what;
}

TEST(ExceptionGroup, WhatNamesErrorsThatAreNotStdExceptions) {
    trellis::exception_group g({std::make_exception_ptr(alpha_error()), std::make_exception_ptr(not_a_std_exception{})});
    const std::string what = g.what();
    EXPECT_NE(what.find("not_a_std_exception"), std::string::npos) << what;
}

TEST(ExceptionGroup, ExceptionsGivesEachErrorInOrder) {
    auto errors = two_errors();
    trellis::exception_group g(errors);
    EXPECT_EQ(g.size(), 2u);
    ASSERT_EQ(g.exceptions().size(), 2u);
    EXPECT_EQ(g.exceptions()[0], errors[0]);
    EXPECT_EQ(g.exceptions()[1], errors[1]);
    EXPECT_THROW(std::rethrow_exception(g.exceptions()[0]), alpha_error);
    EXPECT_THROW(std::rethrow_exception(g.exceptions()[1]), beta_error);
}

TEST(ExceptionGroup, ContainsFindsInnerErrorsByType) {
    trellis::exception_group g(two_errors());
    EXPECT_TRUE(g.contains<alpha_error>());
    EXPECT_TRUE(g.contains<beta_error>());
    EXPECT_TRUE(g.contains<std::logic_error>());  // a base class matches too
    EXPECT_FALSE(g.contains<std::out_of_range>());
    EXPECT_FALSE(g.contains<not_a_std_exception>());
}

TEST(ExceptionGroup, ContainsSearchesNestedGroups) {
    auto inner = std::make_exception_ptr(trellis::exception_group(two_errors()));
    trellis::exception_group outer({std::make_exception_ptr(std::out_of_range("x")), inner});
    EXPECT_TRUE(outer.contains<beta_error>());
    EXPECT_TRUE(outer.contains<std::out_of_range>());
    EXPECT_FALSE(outer.contains<not_a_std_exception>());
}

TEST(ExceptionGroup, ConstructingWithNoErrorsThrowsInvalidArgument) {
    EXPECT_THROW(trellis::exception_group(std::vector<std::exception_ptr>{}), std::invalid_argument);
}

TEST(ExceptionGroup, IsAStdException) {
    bool caught = false;
    try {
        throw trellis::exception_group(two_errors());
    } catch (const std::exception& e) {
        caught = std::string(e.what()).find("alpha went wrong") != std::string::npos;
    }
    EXPECT_TRUE(caught);
}

TEST(ExceptionGroup, DescribeNamesTheTypeAndMessage) {
    const std::string d = trellis::describe(std::make_exception_ptr(alpha_error()));
    EXPECT_NE(d.find("alpha_error"), std::string::npos) << d;
    EXPECT_NE(d.find("alpha went wrong"), std::string::npos) << d;
    EXPECT_EQ(trellis::describe(nullptr), "no error");
}

TRELLIS_TEST(ExceptionGroup, ANurseryGroupDescribesACancelledAlongsideOtherErrorsOnlyByTheOthers) {
    // A cancellation that meets real errors at a nursery's edge is dropped:
    // the real errors travel further than it would.
    bool caught = false;
    trellis::cancel_scope outer;
    co_await outer.run([&]() -> trellis::task<> {
        try {
            co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
                n.start_soon([]() -> trellis::task<> {
                    co_await trellis::lowlevel::cancel_shielded_checkpoint();
                    throw alpha_error();
                });
                n.start_soon([]() -> trellis::task<> {
                    co_await trellis::lowlevel::cancel_shielded_checkpoint();
                    throw beta_error();
                });
                outer.cancel();
                co_await trellis::checkpoint();  // the body raises cancelled
            });
        } catch (const trellis::exception_group& g) {
            caught = true;
            EXPECT_EQ(g.size(), 2u);
            EXPECT_TRUE(g.contains<alpha_error>());
            EXPECT_TRUE(g.contains<beta_error>());
            EXPECT_EQ(std::string(g.what()).find("cancelled"), std::string::npos) << g.what();
        }
    });
    EXPECT_TRUE(caught);
}

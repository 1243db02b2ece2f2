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

TRELLIS_TEST(ExceptionGroup, ACancellationMeetingRealErrorsTravelsInTheGroupUntilItsScopeRemovesIt) {
    // Trio 0.22: inside the cancelled scope the group holds the real errors
    // and the cancellation; the scope that was cancelled takes it out.
    bool inside_has_cancel = false;
    bool outside_has_cancel = true;
    std::size_t outside_size = 0;
    trellis::cancel_scope outer;
    try {
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
                inside_has_cancel = g.size() == 3 && g.contains<trellis::cancelled>();
                throw;
            }
        });
    } catch (const trellis::exception_group& g) {
        outside_size = g.size();
        outside_has_cancel = g.contains<trellis::cancelled>();
        EXPECT_TRUE(g.contains<alpha_error>());
        EXPECT_TRUE(g.contains<beta_error>());
    }
    EXPECT_TRUE(inside_has_cancel);
    EXPECT_EQ(outside_size, 2u);
    EXPECT_FALSE(outside_has_cancel);
    EXPECT_TRUE(outer.cancelled_caught());
}

namespace {

struct gamma_error : std::runtime_error {
    gamma_error() : std::runtime_error("gamma went wrong") {}
};

template <class E>
bool is(const std::exception_ptr& e) {
    return trellis::exception_group::is_a<E>(e);
}

// alpha, [beta, alpha], gamma: a group with a nested group inside.
trellis::exception_group nested_group() {
    auto inner = std::make_exception_ptr(
        trellis::exception_group({std::make_exception_ptr(beta_error()), std::make_exception_ptr(alpha_error())}));
    return trellis::exception_group({std::make_exception_ptr(alpha_error()), inner, std::make_exception_ptr(gamma_error())});
}

}  // namespace

TEST(ExceptionGroup, LeavesListsEveryErrorWithNestedGroupsFlattened) {
    auto leaves = nested_group().leaves();
    ASSERT_EQ(leaves.size(), 4u);
    EXPECT_TRUE(is<alpha_error>(leaves[0]));
    EXPECT_TRUE(is<beta_error>(leaves[1]));
    EXPECT_TRUE(is<alpha_error>(leaves[2]));
    EXPECT_TRUE(is<gamma_error>(leaves[3]));
}

TEST(ExceptionGroup, SplitByTypeSeparatesMatchesFromTheRestKeepingNesting) {
    auto [matched, rest] = nested_group().split<alpha_error>();
    ASSERT_TRUE(matched.has_value());
    ASSERT_TRUE(rest.has_value());
    // matched: alpha, [alpha]
    ASSERT_EQ(matched->size(), 2u);
    EXPECT_TRUE(is<alpha_error>(matched->exceptions()[0]));
    EXPECT_TRUE(is<trellis::exception_group>(matched->exceptions()[1]));
    EXPECT_EQ(matched->leaves().size(), 2u);
    // rest: [beta], gamma
    ASSERT_EQ(rest->size(), 2u);
    EXPECT_TRUE(is<trellis::exception_group>(rest->exceptions()[0]));
    EXPECT_TRUE(is<gamma_error>(rest->exceptions()[1]));
    EXPECT_EQ(rest->leaves().size(), 2u);
}

TEST(ExceptionGroup, SplitMatchesDerivedTypes) {
    auto [matched, rest] = nested_group().split<std::runtime_error>();  // alpha and gamma
    ASSERT_TRUE(matched.has_value());
    EXPECT_EQ(matched->leaves().size(), 3u);
    ASSERT_TRUE(rest.has_value());
    ASSERT_EQ(rest->leaves().size(), 1u);
    EXPECT_TRUE(is<beta_error>(rest->leaves()[0]));
}

TEST(ExceptionGroup, SplitGivesNoRestWhenEveryErrorMatches) {
    auto [matched, rest] = nested_group().split<std::exception>();
    ASSERT_TRUE(matched.has_value());
    EXPECT_EQ(matched->leaves().size(), 4u);
    EXPECT_FALSE(rest.has_value());
}

TEST(ExceptionGroup, SplitKeepsANestedGroupWholeWhenAllOfItMatches) {
    auto group = nested_group();
    auto [matched, rest] = group.split<std::exception>();
    ASSERT_TRUE(matched.has_value());
    EXPECT_EQ(matched->exceptions()[1], group.exceptions()[1]);  // the same exception object
}

TEST(ExceptionGroup, SplitByPredicateTestsEachError) {
    auto [matched, rest] = nested_group().split([](const std::exception_ptr& e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            return std::string(ex.what()).find("beta") != std::string::npos;
        }
    });
    ASSERT_TRUE(matched.has_value());
    ASSERT_EQ(matched->leaves().size(), 1u);
    EXPECT_TRUE(is<beta_error>(matched->leaves()[0]));
    ASSERT_TRUE(rest.has_value());
    EXPECT_EQ(rest->leaves().size(), 3u);
}

TEST(ExceptionGroup, FilterGivesOnlyTheMatchesOrNothing) {
    auto gammas = nested_group().filter<gamma_error>();
    ASSERT_TRUE(gammas.has_value());
    ASSERT_EQ(gammas->size(), 1u);
    EXPECT_TRUE(is<gamma_error>(gammas->exceptions()[0]));
    EXPECT_FALSE(nested_group().filter<std::out_of_range>().has_value());
}

TEST(ExceptionGroup, HandleEachRunsTheHandlerPerMatchAndRethrowsTheRestAsAGroup) {
    std::vector<std::string> handled;
    try {
        trellis::handle_each<alpha_error>(std::make_exception_ptr(nested_group()),
                                          [&](const alpha_error& e) { handled.push_back(e.what()); });
        ADD_FAILURE() << "beta and gamma should have been rethrown";
    } catch (const trellis::exception_group& rest) {
        ASSERT_EQ(rest.leaves().size(), 2u);
        EXPECT_TRUE(is<beta_error>(rest.leaves()[0]));
        EXPECT_TRUE(is<gamma_error>(rest.leaves()[1]));
    }
    EXPECT_EQ(handled, (std::vector<std::string>{"alpha went wrong", "alpha went wrong"}));
}

TEST(ExceptionGroup, HandleEachRethrowsALoneRemainingErrorAsItself) {
    int handled = 0;
    EXPECT_THROW(trellis::handle_each<std::runtime_error>(std::make_exception_ptr(nested_group()),
                                                          [&](const std::runtime_error&) { ++handled; }),
                 beta_error);
    EXPECT_EQ(handled, 3);
}

TEST(ExceptionGroup, HandleEachReturnsWhenEveryErrorWasHandled) {
    int handled = 0;
    trellis::handle_each<std::exception>(std::make_exception_ptr(nested_group()),
                                         [&](const std::exception&) { ++handled; });
    EXPECT_EQ(handled, 4);
}

TEST(ExceptionGroup, HandleEachRethrowsTheSameGroupWhenNothingMatches) {
    auto original = std::make_exception_ptr(nested_group());
    try {
        trellis::handle_each<std::out_of_range>(original, [](const std::out_of_range&) {});
        ADD_FAILURE() << "the group should have been rethrown";
    } catch (...) {
        EXPECT_EQ(std::current_exception(), original);
    }
}

TEST(ExceptionGroup, HandleEachTreatsALoneErrorLikeAGroupOfOne) {
    int handled = 0;
    trellis::handle_each<alpha_error>(std::make_exception_ptr(alpha_error()), [&](const alpha_error&) { ++handled; });
    EXPECT_EQ(handled, 1);
    EXPECT_THROW(trellis::handle_each<alpha_error>(std::make_exception_ptr(beta_error()),
                                                   [&](const alpha_error&) { ++handled; }),
                 beta_error);
    EXPECT_EQ(handled, 1);
}

TEST(ExceptionGroup, AnErrorThrownByAHandlerJoinsTheRest) {
    int handled = 0;
    try {
        trellis::handle_each<alpha_error>(std::make_exception_ptr(nested_group()), [&](const alpha_error&) {
            if (++handled == 1) throw std::out_of_range("handler failed");
        });
        ADD_FAILURE() << "the rest should have been rethrown";
    } catch (const trellis::exception_group& rest) {
        auto leaves = rest.leaves();
        ASSERT_EQ(leaves.size(), 3u);  // beta, gamma, then the handler's error
        EXPECT_TRUE(is<beta_error>(leaves[0]));
        EXPECT_TRUE(is<gamma_error>(leaves[1]));
        EXPECT_TRUE(is<std::out_of_range>(leaves[2]));
    }
    EXPECT_EQ(handled, 2);  // the second alpha was still handled
}

TRELLIS_TEST(ExceptionGroup, HandleEachSortsOutTheErrorsOfANursery) {
    // Both fail on their first step, before either can be cancelled.
    auto fail_alpha = []() -> trellis::task<> {
        throw alpha_error();
        co_return;
    };
    auto fail_beta = []() -> trellis::task<> {
        throw beta_error();
        co_return;
    };
    int alphas = 0;
    bool beta_left = false;
    try {
        try {
            co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
                n.start_soon(fail_alpha);
                n.start_soon(fail_beta);
                co_return;
            });
        } catch (...) {
            trellis::handle_each<alpha_error>(std::current_exception(), [&](const alpha_error&) { ++alphas; });
        }
    } catch (const beta_error&) {
        beta_left = true;
    }
    EXPECT_EQ(alphas, 1);
    EXPECT_TRUE(beta_left);
}

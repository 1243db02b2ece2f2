#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

// Tests to be written.

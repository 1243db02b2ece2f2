// The stream layer in one include: the stream interfaces (Trio's trio.abc)
// and the generic helpers.
#pragma once

#include "trellis/streams/aclose_forcefully.hpp"
#include "trellis/streams/async_resource.hpp"
#include "trellis/streams/conflict_detector.hpp"
#include "trellis/streams/listener.hpp"
#include "trellis/streams/stapled_stream.hpp"
#include "trellis/streams/stream.hpp"

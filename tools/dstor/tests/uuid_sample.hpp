// An export identity shared by the tests of parsing, messages and `dstor show`.
#pragma once

#include "uuid.hpp"

namespace dstor::samples {

// The bytes of sample_uuid_text, written out (not parsed) so that the tests
// of parse_uuid check against something independent of it.
inline const Uuid sample_uuid = {0x0f, 0x8f, 0xad, 0x5b, 0xd9, 0xcb, 0x46, 0x9f,
                                 0xa1, 0x65, 0x70, 0x86, 0x77, 0x28, 0x95, 0x0e};
inline const char* const sample_uuid_text = "0f8fad5b-d9cb-469f-a165-70867728950e";

} // namespace dstor::samples

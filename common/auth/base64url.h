// base64url without padding (RFC 4648 §5), the encoding of every JWS part and JWK number.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crm::auth {

std::string Base64UrlEncode(std::string_view in);

// Refuses padding, characters outside the alphabet and non-zero trailing bits, so every byte
// string has exactly one accepted encoding (a token cannot be altered without breaking it).
std::optional<std::string> Base64UrlDecode(std::string_view in);

}  // namespace crm::auth

// A file compiled into the binary (see cmake/EmbedFiles.cmake), e.g. a SQL migration.
#pragma once

#include <vector>

#include "absl/strings/string_view.h"

namespace crm {

struct EmbeddedFile {
  absl::string_view name;
  absl::string_view contents;
};

}  // namespace crm

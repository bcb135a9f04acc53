// A file compiled into the binary (see cmake/EmbedFiles.cmake), e.g. a SQL migration.
#pragma once

#include "absl/strings/string_view.h"
#include <vector>

namespace crm {

struct EmbeddedFile {
  absl::string_view name;
  absl::string_view contents;
};

}  // namespace crm

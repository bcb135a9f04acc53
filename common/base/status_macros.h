// Early-return helpers for absl::Status / absl::StatusOr.
// Debian 12's Abseil (20220623) does not ship these, so we define them once here.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CRM_STATUS_CONCAT_INNER_(a, b) a##b
#define CRM_STATUS_CONCAT_(a, b) CRM_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` yields a non-OK absl::Status.
#define RETURN_IF_ERROR(expr)                                                       \
  do {                                                                              \
    if (::absl::Status crm_status_ = (expr); !crm_status_.ok()) return crm_status_; \
  } while (false)

// `ASSIGN_OR_RETURN(auto x, Foo());` binds the value of an absl::StatusOr or
// returns its error from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  CRM_ASSIGN_OR_RETURN_IMPL_(CRM_STATUS_CONCAT_(crm_statusor_, __LINE__), lhs, expr)

#define CRM_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)    \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#include "services/pipeline/pipeline_rules.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/api/errors.h"

namespace crm::pipeline {
namespace {

v1::Stage MakeStage(const char* name, int percent, v1::ForecastCategory category,
                    v1::StageKind kind) {
  v1::Stage stage;
  stage.set_display_name(name);
  stage.set_probability_percent(percent);
  stage.set_forecast_category(category);
  stage.set_kind(kind);
  return stage;
}

// Names are compared as people read them: trimmed, case-insensitive (ASCII).
std::string NameKey(absl::string_view name) {
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
}

}  // namespace

v1::Pipeline DefaultPipeline() {
  v1::Pipeline pipeline;
  pipeline.set_display_name("Sales");
  using v1::ForecastCategory;
  const struct {
    const char* name;
    int percent;
    ForecastCategory category;
    v1::StageKind kind;
  } stages[] = {
      {"Prospecting", 10, v1::FORECAST_CATEGORY_PIPELINE, v1::STAGE_KIND_OPEN},
      {"Qualification", 10, v1::FORECAST_CATEGORY_PIPELINE, v1::STAGE_KIND_OPEN},
      {"Needs Analysis", 20, v1::FORECAST_CATEGORY_PIPELINE, v1::STAGE_KIND_OPEN},
      {"Value Proposition", 50, v1::FORECAST_CATEGORY_PIPELINE, v1::STAGE_KIND_OPEN},
      {"Id. Decision Makers", 60, v1::FORECAST_CATEGORY_PIPELINE, v1::STAGE_KIND_OPEN},
      {"Perception Analysis", 70, v1::FORECAST_CATEGORY_BEST_CASE, v1::STAGE_KIND_OPEN},
      {"Proposal/Price Quote", 75, v1::FORECAST_CATEGORY_BEST_CASE, v1::STAGE_KIND_OPEN},
      {"Negotiation/Review", 90, v1::FORECAST_CATEGORY_COMMIT, v1::STAGE_KIND_OPEN},
      {"Closed Won", 100, v1::FORECAST_CATEGORY_CLOSED, v1::STAGE_KIND_WON},
      {"Closed Lost", 0, v1::FORECAST_CATEGORY_OMITTED, v1::STAGE_KIND_LOST},
  };
  for (const auto& s : stages) {
    *pipeline.add_stages() = MakeStage(s.name, s.percent, s.category, s.kind);
  }
  return pipeline;
}

absl::Status ValidatePipeline(const v1::Pipeline& pipeline) {
  const std::string name(absl::StripAsciiWhitespace(pipeline.display_name()));
  if (name.empty() || name.size() > 200) {
    return api::InvalidField("pipeline.display_name", "required, up to 200 characters");
  }
  if (pipeline.stages_size() == 0 || pipeline.stages_size() > kMaxStages) {
    return api::InvalidField("pipeline.stages", absl::StrCat("1 to ", kMaxStages, " stages"));
  }
  std::set<std::string> names;
  int won = 0, lost = 0, open = 0;
  for (int i = 0; i < pipeline.stages_size(); ++i) {
    const v1::Stage& s = pipeline.stages(i);
    const std::string field = absl::StrCat("pipeline.stages[", i, "]");
    const std::string key = NameKey(s.display_name());
    if (key.empty() || s.display_name().size() > 100) {
      return api::InvalidField(absl::StrCat(field, ".display_name"),
                               "required, up to 100 characters");
    }
    if (!names.insert(key).second) {
      return api::InvalidField(absl::StrCat(field, ".display_name"),
                               absl::StrCat("'", s.display_name(), "' is used twice"));
    }
    if (s.probability_percent() < 0 || s.probability_percent() > 100) {
      return api::InvalidField(absl::StrCat(field, ".probability_percent"), "must be 0..100");
    }
    if (s.forecast_category() == v1::FORECAST_CATEGORY_UNSPECIFIED ||
        !v1::ForecastCategory_IsValid(s.forecast_category())) {
      return api::InvalidField(absl::StrCat(field, ".forecast_category"), "required");
    }
    switch (s.kind()) {
      case v1::STAGE_KIND_OPEN:
        ++open;
        break;
      case v1::STAGE_KIND_WON:
        ++won;
        break;
      case v1::STAGE_KIND_LOST:
        ++lost;
        break;
      default:
        return api::InvalidField(absl::StrCat(field, ".kind"), "required: OPEN, WON or LOST");
    }
  }
  if (won == 0)
    return api::InvalidField("pipeline.stages", "a pipeline keeps at least one won stage");
  if (lost == 0) {
    return api::InvalidField("pipeline.stages", "a pipeline keeps at least one lost stage");
  }
  if (open == 0) return api::InvalidField("pipeline.stages", "a pipeline needs an open stage");
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, std::string>> PlanStageRemovals(
    const v1::Pipeline& current, const v1::Pipeline& next,
    const std::map<std::string, std::string>& moves) {
  std::set<std::string> next_ids;
  std::map<std::string, std::string> next_new_names;  // name key -> display name (new stages)
  for (const v1::Stage& s : next.stages()) {
    if (!s.id().empty()) {
      next_ids.insert(s.id());
    } else {
      next_new_names[NameKey(s.display_name())] = s.display_name();
    }
  }
  for (const v1::Stage& s : next.stages()) {
    if (s.id().empty()) continue;
    bool known = false;
    for (const v1::Stage& c : current.stages()) known = known || c.id() == s.id();
    if (!known) {
      return api::InvalidField("pipeline.stages",
                               absl::StrCat("stage id ", s.id(), " is not in this pipeline"));
    }
  }
  std::map<std::string, std::string> plan;
  for (const v1::Stage& c : current.stages()) {
    if (next_ids.count(c.id()) > 0) continue;
    auto move = moves.find(c.id());
    if (move == moves.end()) {
      return api::InvalidField(absl::StrCat("stage_moves[", c.id(), "]"),
                               absl::StrCat("stage '", c.display_name(),
                                            "' is removed: name the stage its deals move to"));
    }
    if (next_ids.count(move->second) > 0) {
      plan[c.id()] = move->second;
    } else if (next_new_names.count(NameKey(move->second)) > 0) {
      plan[c.id()] = absl::StrCat("name:", next_new_names[NameKey(move->second)]);
    } else {
      return api::InvalidField(absl::StrCat("stage_moves[", c.id(), "]"),
                               "must name a stage of the updated pipeline (id or new name)");
    }
  }
  return plan;
}

absl::Status CheckMove(const v1::Stage& from, const v1::Stage& to, absl::string_view lost_reason,
                       bool reopen) {
  if (to.kind() == v1::STAGE_KIND_LOST && absl::StripAsciiWhitespace(lost_reason).empty()) {
    return api::InvalidField("lost_reason", "required when a deal moves to a lost stage");
  }
  const bool from_closed = from.kind() != v1::STAGE_KIND_OPEN;
  if (from_closed && to.kind() == v1::STAGE_KIND_OPEN && !reopen) {
    return absl::FailedPreconditionError(
        "the deal is closed; set reopen to move it back to an open stage");
  }
  return absl::OkStatus();
}

int64_t WeightedAmountMinor(int64_t amount_minor, int32_t probability_percent) {
  const __int128 product = static_cast<__int128>(amount_minor) * probability_percent;
  const __int128 half = product >= 0 ? 50 : -50;
  return static_cast<int64_t>((product + half) / 100);
}

std::string StageKindToText(v1::StageKind kind) {
  switch (kind) {
    case v1::STAGE_KIND_OPEN:
      return "open";
    case v1::STAGE_KIND_WON:
      return "won";
    case v1::STAGE_KIND_LOST:
      return "lost";
    default:
      return "";
  }
}

v1::StageKind StageKindFromText(absl::string_view text) {
  if (text == "open") return v1::STAGE_KIND_OPEN;
  if (text == "won") return v1::STAGE_KIND_WON;
  if (text == "lost") return v1::STAGE_KIND_LOST;
  return v1::STAGE_KIND_UNSPECIFIED;
}

std::string ForecastCategoryToText(v1::ForecastCategory category) {
  std::string name = v1::ForecastCategory_Name(category);
  return absl::AsciiStrToLower(absl::StripPrefix(name, "FORECAST_CATEGORY_"));
}

v1::ForecastCategory ForecastCategoryFromText(absl::string_view text) {
  v1::ForecastCategory category = v1::FORECAST_CATEGORY_UNSPECIFIED;
  v1::ForecastCategory_Parse(absl::StrCat("FORECAST_CATEGORY_", absl::AsciiStrToUpper(text)),
                             &category);
  return category;
}

}  // namespace crm::pipeline

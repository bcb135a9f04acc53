#include "services/reporting/report_files.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace crm::reporting {
namespace {

v1::Report SampleReport() {
  v1::Report r;
  r.mutable_spec()->set_kind(v1::REPORT_KIND_WON_LOST);
  r.set_title("Won / lost, 2026-11-01 to 2026-11-30");
  r.set_from_date("2026-11-01");
  r.set_to_date("2026-12-01");
  r.set_time_zone("Asia/Yerevan");
  for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{
           {"rep", "text"}, {"currency", "text"}, {"won", "integer"}, {"won_amount", "money"}}) {
    auto* c = r.add_columns();
    c->set_name(name);
    c->set_type(type);
  }
  for (const auto& cells : std::vector<std::vector<std::string>>{
           {"alice", "USD", "3", "150000"}, {"=cmd|' /C calc'!A0", "USD", "1", "5000"}}) {
    auto* row = r.add_rows();
    for (const auto& c : cells) row->add_cells(c);
  }
  for (const auto& c : std::vector<std::string>{"total", "USD", "4", "155000"}) {
    r.mutable_totals()->add_cells(c);
  }
  return r;
}

TEST(ReportFilesTest, CsvQuotesAndDefusesFormulas) {
  const std::string csv = ReportCsv(SampleReport());
  EXPECT_EQ(csv,
            "rep,currency,won,won_amount\r\n"
            "alice,USD,3,150000\r\n"
            "'=cmd|' /C calc'!A0,USD,1,5000\r\n"
            "total,USD,4,155000\r\n");
  v1::Report quoted = SampleReport();
  quoted.mutable_rows(0)->set_cells(0, "Petrosyan, \"Anna\"");
  EXPECT_TRUE(absl::StrContains(ReportCsv(quoted), "\"Petrosyan, \"\"Anna\"\"\",USD"));
}

TEST(ReportFilesTest, SvgHasTitleAxesLegendAndExactBars) {
  for (v1::ChartKind chart : {v1::CHART_KIND_BAR, v1::CHART_KIND_STACKED_BAR, v1::CHART_KIND_LINE,
                              v1::CHART_KIND_FUNNEL}) {
    auto svg = ReportSvg(SampleReport(), chart);
    ASSERT_TRUE(svg.ok());
    EXPECT_TRUE(absl::StartsWith(*svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    EXPECT_TRUE(absl::StrContains(*svg, "Won / lost, 2026-11-01 to 2026-11-30"));
    EXPECT_TRUE(absl::StrContains(*svg, "data-category=\"alice\""));
    EXPECT_TRUE(absl::StrContains(*svg, "data-value=\"150000\""));
    // Text is escaped.
    EXPECT_TRUE(absl::StrContains(*svg, "=cmd|&apos; /C calc&apos;!A0"));
    EXPECT_EQ(*svg, *ReportSvg(SampleReport(), chart));  // deterministic
  }
  EXPECT_EQ(ReportFileName(SampleReport(), "csv"), "won-lost-2026-11-01.csv");
}

TEST(ReportFilesTest, ATabOrCrBeforeAFormulaIsDefusedToo) {
  // Spreadsheets skip a leading TAB or CR and then run what follows.
  v1::Report report = SampleReport();
  report.mutable_rows(0)->set_cells(0, "\t=HYPERLINK(\"http://evil\")");
  report.mutable_rows(1)->set_cells(0, "\r=1+1");
  const std::string csv = ReportCsv(report);
  EXPECT_TRUE(absl::StrContains(csv, "\"'\t=HYPERLINK(\"\"http://evil\"\")\",USD")) << csv;
  EXPECT_TRUE(absl::StrContains(csv, "\"'\r=1+1\",USD")) << csv;
}

TEST(ReportFilesTest, SvgTextHasNoControlCharacters) {
  // XML 1.0 forbids them: one in a rep's name would make the whole chart unreadable.
  v1::Report report = SampleReport();
  report.mutable_rows(0)->set_cells(0, std::string("al\x01ice\x1b[31m\x00!", 14));
  report.set_title("Title\twith\ncontrols\x7f");
  for (v1::ChartKind chart : {v1::CHART_KIND_BAR, v1::CHART_KIND_FUNNEL}) {
    auto svg = ReportSvg(report, chart);
    ASSERT_TRUE(svg.ok());
    for (char c : *svg) {
      const auto byte = static_cast<unsigned char>(c);
      EXPECT_TRUE(byte >= 0x20 || c == '\n') << "control character " << static_cast<int>(byte);
    }
    EXPECT_TRUE(absl::StrContains(*svg, "al ice [31m !")) << *svg;
  }
}

}  // namespace
}  // namespace crm::reporting

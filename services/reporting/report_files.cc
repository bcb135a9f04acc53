#include "services/reporting/report_files.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/api/errors.h"
#include "common/base/spreadsheet.h"

namespace crm::reporting {
namespace {

std::string CsvCell(const std::string& cell, bool text) {
  const std::string value = text ? DefuseFormula(cell) : cell;
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  return absl::StrCat("\"", absl::StrReplaceAll(value, {{"\"", "\"\""}}), "\"");
}

// Text and attribute values of the SVG. Control characters are not allowed in XML 1.0 (a parser
// refuses the whole document), so they become spaces.
std::string Xml(const std::string& text) {
  std::string printable = text;
  for (char& c : printable) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return absl::StrReplaceAll(
      printable, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}, {"'", "&apos;"}});
}

// What a chart draws: categories along x, one or more series, values per (category, series).
struct ChartData {
  std::string metric;
  std::string metric_type;
  std::string currency;
  std::vector<std::string> categories;
  std::vector<std::string> series;
  std::map<std::pair<size_t, size_t>, int64_t> values;
};

int ColumnIndex(const v1::Report& report, const std::string& name) {
  for (int i = 0; i < report.columns_size(); ++i) {
    if (report.columns(i).name() == name) return i;
  }
  return -1;
}

size_t IndexOf(std::vector<std::string>& list, const std::string& value) {
  auto it = std::find(list.begin(), list.end(), value);
  if (it != list.end()) return static_cast<size_t>(it - list.begin());
  list.push_back(value);
  return list.size() - 1;
}

ChartData Extract(const v1::Report& report) {
  ChartData data;
  std::vector<int> text, metrics;
  for (int i = 0; i < report.columns_size(); ++i) {
    const auto& c = report.columns(i);
    if (c.type() == "text") {
      if (c.name() != "currency") text.push_back(i);
    } else if (c.type() == "integer" || c.type() == "money") {
      metrics.push_back(i);
    }
  }
  const int currency = ColumnIndex(report, "currency");
  if (currency >= 0 && report.rows_size() > 0) data.currency = report.rows(0).cells(currency);
  // Activities: one series per kind. Otherwise the first money metric (else the first count),
  // split into series by a second text column when there is one.
  std::vector<int> series_columns;
  if (report.spec().kind() == v1::REPORT_KIND_ACTIVITIES_BY_REP) {
    series_columns = {ColumnIndex(report, "calls"), ColumnIndex(report, "emails"),
                      ColumnIndex(report, "meetings"), ColumnIndex(report, "notes")};
    data.metric = "activities";
    data.metric_type = "integer";
  } else {
    int metric = metrics.empty() ? -1 : metrics[0];
    for (int m : metrics) {
      if (report.columns(m).type() == "money") {
        metric = m;
        break;
      }
    }
    if (report.spec().kind() == v1::REPORT_KIND_STAGE_CONVERSION) metric = metrics[0];
    series_columns = {metric};
    data.metric = metric >= 0 ? report.columns(metric).name() : "";
    data.metric_type = metric >= 0 ? report.columns(metric).type() : "integer";
  }
  for (const v1::Row& row : report.rows()) {
    if (currency >= 0 && row.cells(currency) != data.currency) continue;
    const size_t category = IndexOf(data.categories, text.empty() ? "all" : row.cells(text[0]));
    for (int column : series_columns) {
      if (column < 0) continue;
      std::string series_name = series_columns.size() > 1 ? report.columns(column).name()
                                : text.size() > 1         ? row.cells(text[1])
                                                          : data.metric;
      const size_t series = IndexOf(data.series, series_name);
      int64_t value = 0;
      (void)absl::SimpleAtoi(row.cells(column), &value);
      data.values[{category, series}] += value;
    }
  }
  return data;
}

// Axis numbers: money in major units, counts as they are.
std::string AxisLabel(double value, const std::string& type) {
  if (type == "money") return absl::StrFormat("%.0f", value / 100.0);
  return absl::StrFormat("%.0f", value);
}

// A round step giving about five ticks up to `max`.
double NiceStep(double max) {
  if (max <= 0) return 1;
  const double raw = max / 5;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * magnitude >= raw) return m * magnitude;
  }
  return 10 * magnitude;
}

const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                          "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

}  // namespace

std::string ReportCsv(const v1::Report& report) {
  std::string out;
  auto line = [&](const google::protobuf::RepeatedPtrField<std::string>& cells) {
    for (int i = 0; i < cells.size(); ++i) {
      const bool text = i < report.columns_size() && report.columns(i).type() == "text";
      absl::StrAppend(&out, i == 0 ? "" : ",", CsvCell(cells[i], text));
    }
    out += "\r\n";
  };
  google::protobuf::RepeatedPtrField<std::string> header;
  for (const auto& c : report.columns()) *header.Add() = c.name();
  line(header);
  for (const v1::Row& row : report.rows()) line(row.cells());
  if (report.totals().cells_size() > 0) line(report.totals().cells());
  return out;
}

v1::ChartKind DefaultChart(const v1::Report& report) {
  if (report.columns_size() > 0 && report.columns(0).name() == "period") {
    return v1::CHART_KIND_LINE;
  }
  switch (report.spec().kind()) {
    case v1::REPORT_KIND_PIPELINE_BY_STAGE:
    case v1::REPORT_KIND_STAGE_CONVERSION:
      return v1::CHART_KIND_FUNNEL;
    case v1::REPORT_KIND_FORECAST:
    case v1::REPORT_KIND_ACTIVITIES_BY_REP:
      return v1::CHART_KIND_STACKED_BAR;
    default:
      return v1::CHART_KIND_BAR;
  }
}

std::string ReportFileName(const v1::Report& report, const std::string& extension) {
  std::string kind = absl::AsciiStrToLower(v1::ReportKind_Name(report.spec().kind()));
  absl::StrReplaceAll({{"report_kind_", ""}, {"_", "-"}}, &kind);
  return absl::StrCat(kind, "-", report.from_date(), ".", extension);
}

absl::StatusOr<std::string> ReportSvg(const v1::Report& report, v1::ChartKind chart) {
  if (chart == v1::CHART_KIND_UNSPECIFIED) chart = DefaultChart(report);
  if (!v1::ChartKind_IsValid(chart)) return api::InvalidField("chart", "unknown chart kind");
  const ChartData data = Extract(report);
  constexpr int kWidth = 860, kHeight = 520;
  constexpr int kLeft = 90, kRight = 180, kTop = 70, kBottom = 110;
  const int plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  const size_t n = std::max<size_t>(data.categories.size(), 1);
  const size_t s = std::max<size_t>(data.series.size(), 1);
  const bool stacked = chart == v1::CHART_KIND_STACKED_BAR;

  double max = 0;
  for (size_t c = 0; c < data.categories.size(); ++c) {
    double stack = 0;
    for (size_t k = 0; k < data.series.size(); ++k) {
      auto it = data.values.find({c, k});
      const double v = it == data.values.end() ? 0 : static_cast<double>(it->second);
      stack += std::max(0.0, v);
      max = std::max(max, v);
    }
    if (stacked || chart == v1::CHART_KIND_FUNNEL) max = std::max(max, stack);
  }
  const double step = NiceStep(max);
  const double top = std::max(step, std::ceil(max / step) * step);
  auto y_of = [&](double v) { return kTop + plot_h - v / top * plot_h; };

  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
      "fill=\"#ffffff\"/>\n",
      kWidth, kHeight, kWidth, kHeight);
  absl::StrAppend(&svg, "<text x=\"", kWidth / 2, "\" y=\"28\" text-anchor=\"middle\" ",
                  "font-size=\"18\" font-weight=\"bold\">", Xml(report.title()), "</text>\n");
  std::string subtitle = absl::StrCat(report.from_date(), " to ", report.to_date(),
                                      " (exclusive), ", report.time_zone(), "; ", data.metric);
  if (!data.currency.empty()) absl::StrAppend(&subtitle, ", ", data.currency);
  absl::StrAppend(&svg, "<text x=\"", kWidth / 2, "\" y=\"48\" text-anchor=\"middle\" ",
                  "fill=\"#555555\">", Xml(subtitle), "</text>\n");

  if (chart != v1::CHART_KIND_FUNNEL) {
    // Axes, grid lines and their labels.
    for (double v = 0; v <= top + step / 2; v += step) {
      const double y = y_of(v);
      absl::StrAppend(&svg, absl::StrFormat("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                                            "stroke=\"#e0e0e0\"/>\n",
                                            kLeft, y, kLeft + plot_w, y));
      absl::StrAppend(&svg, absl::StrFormat("<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s"
                                            "</text>\n",
                                            kLeft - 8, y + 4, AxisLabel(v, data.metric_type)));
    }
    absl::StrAppend(&svg, absl::StrFormat("<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
                                          "y2=\"%d\" stroke=\"#333333\"/>\n",
                                          kLeft, kTop + plot_h, kLeft + plot_w, kTop + plot_h));
    absl::StrAppend(&svg, absl::StrFormat("<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
                                          "y2=\"%d\" stroke=\"#333333\"/>\n",
                                          kLeft, kTop, kLeft, kTop + plot_h));
    absl::StrAppend(&svg, absl::StrFormat("<text x=\"20\" y=\"%d\" transform=\"rotate(-90 20 %d)\" "
                                          "text-anchor=\"middle\">%s%s</text>\n",
                                          kTop + plot_h / 2, kTop + plot_h / 2, Xml(data.metric),
                                          data.metric_type == "money" ? " (major units)" : ""));
    absl::StrAppend(&svg,
                    absl::StrFormat("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s"
                                    "</text>\n",
                                    kLeft + plot_w / 2, kHeight - 12,
                                    Xml(report.columns_size() > 0 ? report.columns(0).name()
                                                                  : std::string("category"))));
  }
  const double slot = static_cast<double>(plot_w) / static_cast<double>(n);
  for (size_t c = 0; c < data.categories.size(); ++c) {
    const double x0 = kLeft + slot * static_cast<double>(c);
    if (chart != v1::CHART_KIND_FUNNEL) {
      absl::StrAppend(&svg, absl::StrFormat("<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" "
                                            "transform=\"rotate(-35 %.1f %d)\">%s</text>\n",
                                            x0 + slot / 2, kTop + plot_h + 16, x0 + slot / 2,
                                            kTop + plot_h + 16, Xml(data.categories[c])));
    }
    double stack = 0;
    for (size_t k = 0; k < data.series.size(); ++k) {
      auto it = data.values.find({c, k});
      if (it == data.values.end()) continue;
      const int64_t value = it->second;
      const double v = std::max(0.0, static_cast<double>(value));
      const std::string attrs = absl::StrCat(
          " data-category=\"", Xml(data.categories[c]), "\" data-series=\"", Xml(data.series[k]),
          "\" data-value=\"", value, "\" fill=\"", kPalette[k % 10], "\"");
      if (chart == v1::CHART_KIND_BAR) {
        const double w = slot * 0.8 / static_cast<double>(s);
        const double x = x0 + slot * 0.1 + w * static_cast<double>(k);
        absl::StrAppend(&svg, absl::StrFormat("<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" "
                                              "width=\"%.1f\" height=\"%.1f\"%s/>\n",
                                              x, y_of(v), w, y_of(0) - y_of(v), attrs));
      } else if (stacked) {
        absl::StrAppend(&svg, absl::StrFormat("<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" "
                                              "width=\"%.1f\" height=\"%.1f\"%s/>\n",
                                              x0 + slot * 0.1, y_of(stack + v), slot * 0.8,
                                              y_of(stack) - y_of(stack + v), attrs));
        stack += v;
      } else if (chart == v1::CHART_KIND_LINE) {
        absl::StrAppend(&svg, absl::StrFormat("<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" "
                                              "r=\"3\"%s/>\n",
                                              x0 + slot / 2, y_of(v), attrs));
      } else {  // funnel: one centred bar per category, widest for the largest value
        const double row_h = static_cast<double>(plot_h) / static_cast<double>(n);
        const double w = top > 0 ? v / top * plot_w : 0;
        const double y = kTop + row_h * static_cast<double>(c);
        absl::StrAppend(&svg,
                        absl::StrFormat("<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" "
                                        "width=\"%.1f\" height=\"%.1f\"%s/>\n",
                                        kLeft + (plot_w - w) / 2, y + 2, w, row_h - 4, attrs));
        absl::StrAppend(&svg,
                        absl::StrFormat("<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s"
                                        "</text>\n",
                                        kLeft - 8, y + row_h / 2 + 4, Xml(data.categories[c])));
        absl::StrAppend(&svg,
                        absl::StrFormat("<text x=\"%d\" y=\"%.1f\">%s</text>\n", kLeft + plot_w + 8,
                                        y + row_h / 2 + 4, AxisLabel(v, data.metric_type)));
      }
    }
  }
  if (chart == v1::CHART_KIND_LINE) {
    for (size_t k = 0; k < data.series.size(); ++k) {
      std::string points;
      for (size_t c = 0; c < data.categories.size(); ++c) {
        auto it = data.values.find({c, k});
        const double v = it == data.values.end() ? 0 : std::max(0.0, double(it->second));
        absl::StrAppend(&points, c == 0 ? "" : " ",
                        absl::StrFormat("%.1f,%.1f", kLeft + slot * (c + 0.5), y_of(v)));
      }
      absl::StrAppend(&svg, "<polyline class=\"line\" fill=\"none\" stroke-width=\"2\" stroke=\"",
                      kPalette[k % 10], "\" data-series=\"", Xml(data.series[k]), "\" points=\"",
                      points, "\"/>\n");
    }
  }
  // Legend.
  for (size_t k = 0; k < data.series.size(); ++k) {
    const int y = kTop + static_cast<int>(k) * 20;
    absl::StrAppend(&svg, absl::StrFormat("<rect class=\"legend\" x=\"%d\" y=\"%d\" width=\"12\" "
                                          "height=\"12\" fill=\"%s\"/>\n",
                                          kWidth - kRight + 24, y, kPalette[k % 10]));
    absl::StrAppend(&svg, absl::StrFormat("<text x=\"%d\" y=\"%d\">%s</text>\n",
                                          kWidth - kRight + 42, y + 10, Xml(data.series[k])));
  }
  if (data.categories.empty()) {
    absl::StrAppend(&svg, "<text x=\"", kWidth / 2, "\" y=\"", kHeight / 2,
                    "\" text-anchor=\"middle\" fill=\"#888888\">no data in this period</text>\n");
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace crm::reporting

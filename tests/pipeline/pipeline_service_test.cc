// The pipeline service against a real PostgreSQL and a real contacts service (both in-process,
// over gRPC): the default process, stage edits, deals, moves and their history, tenant isolation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/ids/uuid.h"
#include "common/testing/grpc_testing.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_runtime.h"
#include "services/pipeline/contacts_follower.h"
#include "services/pipeline/pipeline_wiring.h"
#include "services/pipeline/renewal_job.h"
#include "tests/contacts/contacts_test_env.h"

extern const std::vector<crm::EmbeddedFile>& PipelineMigrations();

namespace crm::pipeline {
namespace {

using crm::testing::AuthedContext;
using crm::testing::MintToken;
using ::testing::ElementsAre;

class PipelineServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    contacts_env_ = contacts::testing::ContactsTestEnv::Start().release();
    ASSERT_NE(contacts_env_, nullptr);
    PipelineWiring wiring;
    wiring.contacts_address = absl::StrCat("127.0.0.1:", contacts_env_->grpc_port());
    wiring.follow_contacts = false;             // the tests hand contacts' events to the store
    wiring.renewals.interval = absl::Hours(1);  // and run the renewal job themselves
    server::RuntimeOptions options = crm::testing::TestRuntimeOptions(
        contacts_env_->database(), "pipeline", PipelineMigrations());
    options.workers = 8;
    runtime_ = crm::testing::StartService(std::move(options), WirePipeline(wiring)).release();
    ASSERT_NE(runtime_, nullptr);
    pool_ = &runtime_->pool();
    products_ = &runtime_->parts<PipelineParts>().products;
    store_ = &runtime_->parts<PipelineParts>().store;
    stub_ =
        v1::PipelineService::NewStub(crm::testing::LocalChannel(runtime_->grpc_port())).release();
  }
  static void TearDownTestSuite() {
    delete stub_;
    delete runtime_;
    delete contacts_env_;
  }
  void SetUp() override {
    tenant_ = "t" + ids::NewUuidV7().substr(24);
    rep_ = MintToken(tenant_, "alice", {"rep"});
    admin_ = MintToken(tenant_, "root", {"admin"});
  }

  v1::Pipeline DefaultPipeline(const std::string& token = "") {
    v1::ListPipelinesResponse response;
    EXPECT_TRUE(stub_
                    ->ListPipelines(AuthedContext(token.empty() ? rep_ : token).get(),
                                    v1::ListPipelinesRequest(), &response)
                    .ok());
    return response.pipelines(0);
  }

  contacts::v1::Contact CreateContact(const std::string& email) {
    contacts::v1::CreateContactRequest request;
    request.mutable_contact()->set_given_name("Lead");
    request.mutable_contact()->add_emails(email);
    contacts::v1::Contact contact;
    EXPECT_TRUE(
        contacts_env_->stub().CreateContact(AuthedContext(rep_).get(), request, &contact).ok());
    return contact;
  }

  grpc::Status CreateDeal(const std::string& token, v1::Deal deal, v1::Deal* out) {
    v1::CreateDealRequest request;
    *request.mutable_deal() = std::move(deal);
    return stub_->CreateDeal(AuthedContext(token).get(), request, out);
  }

  grpc::Status Move(const std::string& token, const v1::Deal& deal, const std::string& stage,
                    v1::Deal* out, const std::string& lost_reason = "", bool reopen = false) {
    v1::MoveDealRequest request;
    request.set_name(deal.name());
    request.set_stage(stage);
    request.set_etag(deal.etag());
    request.set_lost_reason(lost_reason);
    request.set_reopen(reopen);
    return stub_->MoveDeal(AuthedContext(token).get(), request, out);
  }

  static v1::Deal NewDeal(const std::string& name, int64_t amount) {
    v1::Deal deal;
    deal.set_display_name(name);
    deal.mutable_amount()->set_amount_minor(amount);
    deal.mutable_amount()->set_currency_code("AMD");
    return deal;
  }

  static contacts::testing::ContactsTestEnv* contacts_env_;
  static server::ServiceRuntime* runtime_;
  static db::Pool* pool_;
  static ProductStore* products_;
  static PipelineStore* store_;
  static v1::PipelineService::Stub* stub_;
  std::string tenant_, rep_, admin_;
};

contacts::testing::ContactsTestEnv* PipelineServiceTest::contacts_env_ = nullptr;
server::ServiceRuntime* PipelineServiceTest::runtime_ = nullptr;
db::Pool* PipelineServiceTest::pool_ = nullptr;
ProductStore* PipelineServiceTest::products_ = nullptr;
PipelineStore* PipelineServiceTest::store_ = nullptr;
v1::PipelineService::Stub* PipelineServiceTest::stub_ = nullptr;

TEST_F(PipelineServiceTest, ANewTenantGetsTheStandardSalesProcess) {
  const v1::Pipeline p = DefaultPipeline();
  EXPECT_TRUE(p.is_default());
  std::vector<std::string> names;
  std::vector<int> percents;
  for (const auto& s : p.stages()) {
    names.push_back(s.display_name());
    percents.push_back(s.probability_percent());
    EXPECT_FALSE(s.id().empty());
  }
  EXPECT_THAT(names,
              ElementsAre("Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
                          "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
                          "Negotiation/Review", "Closed Won", "Closed Lost"));
  EXPECT_THAT(percents, ElementsAre(10, 10, 20, 50, 60, 70, 75, 90, 100, 0));
  // Asking again (and concurrently elsewhere) never makes a second default.
  v1::ListPipelinesResponse again;
  ASSERT_TRUE(stub_->ListPipelines(AuthedContext(rep_).get(), {}, &again).ok());
  EXPECT_EQ(again.pipelines_size(), 1);
}

TEST_F(PipelineServiceTest, DealsMustPointAtContactsThatExistInTheTenant) {
  const contacts::v1::Contact anna = CreateContact("anna@deal.example");
  v1::Deal deal = NewDeal("Acme renewal", 1'000'000);
  deal.set_contact(anna.name());
  v1::Deal created;
  ASSERT_TRUE(CreateDeal(rep_, deal, &created).ok());
  EXPECT_EQ(created.contact(), anna.name());
  EXPECT_EQ(created.stage(), DefaultPipeline().stages(0).id());
  EXPECT_EQ(created.probability_percent(), 10);
  EXPECT_EQ(created.owner(), "alice");

  deal.set_contact("contacts/00000000-0000-7000-8000-000000000000");
  EXPECT_EQ(CreateDeal(rep_, deal, &created).error_code(), grpc::StatusCode::NOT_FOUND);
  // Another tenant's contact does not exist for this tenant either.
  const std::string other = MintToken("other-" + tenant_, "bob", {"rep"});
  deal.set_contact(anna.name());
  EXPECT_EQ(CreateDeal(other, deal, &created).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(PipelineServiceTest, MovesAreRecordedInOrderAndGuarded) {
  const v1::Pipeline p = DefaultPipeline();
  v1::Deal deal;
  ASSERT_TRUE(CreateDeal(rep_, NewDeal("Big one", 5'000'000), &deal).ok());
  v1::Deal moved;
  ASSERT_TRUE(Move(rep_, deal, p.stages(3).id(), &moved).ok());
  EXPECT_EQ(moved.probability_percent(), 50);
  // A stale etag is refused.
  v1::Deal stale;
  EXPECT_EQ(Move(rep_, deal, p.stages(4).id(), &stale).error_code(), grpc::StatusCode::ABORTED);
  // Lost needs a reason.
  EXPECT_EQ(Move(rep_, moved, p.stages(9).id(), &stale).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::Deal won;
  ASSERT_TRUE(Move(rep_, moved, p.stages(8).id(), &won).ok());
  EXPECT_EQ(won.probability_percent(), 100);
  EXPECT_TRUE(won.has_close_time());
  // A closed deal reopens only explicitly.
  v1::Deal reopened;
  EXPECT_EQ(Move(rep_, won, p.stages(7).id(), &reopened).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(Move(rep_, won, p.stages(7).id(), &reopened, "", true).ok());
  EXPECT_FALSE(reopened.has_close_time());
  // Someone else's deal is not a rep's to move.
  v1::Deal theirs;
  EXPECT_EQ(
      Move(MintToken(tenant_, "bob", {"rep"}), reopened, p.stages(6).id(), &theirs).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  v1::ListStageHistoryRequest request;
  request.set_name(deal.name());
  v1::ListStageHistoryResponse history;
  ASSERT_TRUE(stub_->ListStageHistory(AuthedContext(rep_).get(), request, &history).ok());
  std::vector<std::pair<std::string, std::string>> moves;
  for (const auto& c : history.changes()) moves.emplace_back(c.from_stage(), c.to_stage());
  EXPECT_THAT(moves, ElementsAre(std::make_pair(std::string(""), p.stages(0).id()),
                                 std::make_pair(p.stages(0).id(), p.stages(3).id()),
                                 std::make_pair(p.stages(3).id(), p.stages(8).id()),
                                 std::make_pair(p.stages(8).id(), p.stages(7).id())));
  for (int i = 1; i < history.changes_size(); ++i) {
    EXPECT_GE(history.changes(i).change_time().seconds(),
              history.changes(i - 1).change_time().seconds());
  }
}

TEST_F(PipelineServiceTest, AdminsEditStagesAndRemovingAStageMovesItsDeals) {
  v1::Pipeline p = DefaultPipeline(admin_);
  v1::Deal deal;
  ASSERT_TRUE(CreateDeal(rep_, NewDeal("In qualification", 100), &deal).ok());
  v1::Deal moved;
  ASSERT_TRUE(Move(rep_, deal, p.stages(1).id(), &moved).ok());

  // Reps cannot edit pipelines.
  v1::UpdatePipelineRequest request;
  *request.mutable_pipeline() = p;
  v1::Pipeline updated;
  EXPECT_EQ(stub_->UpdatePipeline(AuthedContext(rep_).get(), request, &updated).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Remove Qualification (holding the deal): refused without a target, done with one.
  const std::string qualification = p.stages(1).id();
  request.mutable_pipeline()->mutable_stages()->DeleteSubrange(1, 1);
  // ...and swap the first two remaining stages, and rename one.
  request.mutable_pipeline()->mutable_stages()->SwapElements(0, 1);
  request.mutable_pipeline()->mutable_stages(2)->set_display_name("Pitch");
  EXPECT_EQ(stub_->UpdatePipeline(AuthedContext(admin_).get(), request, &updated).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  (*request.mutable_stage_moves())[qualification] = p.stages(2).id();
  grpc::Status status = stub_->UpdatePipeline(AuthedContext(admin_).get(), request, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(updated.stages_size(), 9);
  EXPECT_EQ(updated.stages(0).display_name(), "Needs Analysis");
  EXPECT_EQ(updated.stages(1).display_name(), "Prospecting");
  EXPECT_EQ(updated.stages(2).display_name(), "Pitch");

  v1::GetDealRequest get;
  get.set_name(deal.name());
  v1::Deal after;
  ASSERT_TRUE(stub_->GetDeal(AuthedContext(rep_).get(), get, &after).ok());
  EXPECT_EQ(after.stage(), p.stages(2).id());
  EXPECT_EQ(after.probability_percent(), 20);
  v1::ListStageHistoryRequest history_request;
  history_request.set_name(deal.name());
  v1::ListStageHistoryResponse history;
  ASSERT_TRUE(stub_->ListStageHistory(AuthedContext(rep_).get(), history_request, &history).ok());
  EXPECT_EQ(history.changes(history.changes_size() - 1).from_stage(), qualification);

  // The last won stage cannot go.
  v1::UpdatePipelineRequest no_won;
  *no_won.mutable_pipeline() = updated;
  for (int i = 0; i < no_won.pipeline().stages_size(); ++i) {
    if (no_won.pipeline().stages(i).kind() == v1::STAGE_KIND_WON) {
      no_won.mutable_pipeline()->mutable_stages()->DeleteSubrange(i, 1);
      break;
    }
  }
  EXPECT_EQ(stub_->UpdatePipeline(AuthedContext(admin_).get(), no_won, &updated).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PipelineServiceTest, ARequestIdIsTheCallersOwnNotTheTenants) {
  const std::string bob = MintToken(tenant_, "bob", {"rep"});
  auto create = [&](const std::string& token, const std::string& name, v1::Deal* out) {
    v1::CreateDealRequest request;
    *request.mutable_deal() = NewDeal(name, 1000);
    request.set_request_id("shared-key");
    return stub_->CreateDeal(AuthedContext(token).get(), request, out);
  };
  v1::Deal alices, bobs, bobs_retry;
  ASSERT_TRUE(create(rep_, "Alice's deal", &alices).ok());
  ASSERT_TRUE(create(bob, "Bob's deal", &bobs).ok());
  EXPECT_NE(bobs.name(), alices.name());
  EXPECT_EQ(bobs.display_name(), "Bob's deal");
  ASSERT_TRUE(create(bob, "Bob's deal", &bobs_retry).ok());
  EXPECT_EQ(bobs_retry.name(), bobs.name());

  const std::string other_admin = MintToken(tenant_, "root2", {"admin"});
  auto pipeline = [&](const std::string& token, const std::string& name, v1::Pipeline* out) {
    v1::CreatePipelineRequest request;
    request.mutable_pipeline()->set_display_name(name);
    for (const auto& [stage, kind] :
         std::vector<std::pair<std::string, v1::StageKind>>{{"Open", v1::STAGE_KIND_OPEN},
                                                            {"Won", v1::STAGE_KIND_WON},
                                                            {"Lost", v1::STAGE_KIND_LOST}}) {
      v1::Stage* s = request.mutable_pipeline()->add_stages();
      s->set_display_name(stage);
      s->set_kind(kind);
      s->set_forecast_category(kind == v1::STAGE_KIND_OPEN  ? v1::FORECAST_CATEGORY_PIPELINE
                               : kind == v1::STAGE_KIND_WON ? v1::FORECAST_CATEGORY_CLOSED
                                                            : v1::FORECAST_CATEGORY_OMITTED);
    }
    request.set_request_id("shared-key");
    return stub_->CreatePipeline(AuthedContext(token).get(), request, out);
  };
  v1::Pipeline first, second;
  const grpc::Status made = pipeline(admin_, "Root's", &first);
  ASSERT_TRUE(made.ok()) << made.error_message();
  ASSERT_TRUE(pipeline(other_admin, "Root2's", &second).ok());
  EXPECT_NE(second.name(), first.name());
  EXPECT_EQ(second.display_name(), "Root2's");
}

// The update-mask rule every service shares (common/api/field_mask.h): "*" replaces every
// writable field, a request id follows the one rule, and the stage is not writable here.
TEST_F(PipelineServiceTest, UpdateMasksAndRequestIdsFollowTheSharedRules) {
  v1::Deal deal;
  ASSERT_TRUE(CreateDeal(rep_, NewDeal("Full replace", 42), &deal).ok());
  v1::UpdateDealRequest update;
  *update.mutable_deal() = deal;
  update.mutable_deal()->set_display_name("Replaced");
  update.mutable_deal()->clear_next_step();
  update.mutable_update_mask()->add_paths("*");
  v1::Deal out;
  const grpc::Status replaced = stub_->UpdateDeal(AuthedContext(rep_).get(), update, &out);
  ASSERT_TRUE(replaced.ok()) << replaced.error_message();
  EXPECT_EQ(out.display_name(), "Replaced");
  EXPECT_EQ(out.amount().amount_minor(), deal.amount().amount_minor());
  update.mutable_deal()->clear_etag();  // the deal changed since: no etag, no check
  update.mutable_update_mask()->set_paths(0, "stage");
  const grpc::Status stage = stub_->UpdateDeal(AuthedContext(rep_).get(), update, &out);
  EXPECT_EQ(stage.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(stage.error_message().find("use MoveDeal"), std::string::npos) << stage.error_message();
  v1::CreateDealRequest create;
  *create.mutable_deal() = NewDeal("Spaced key", 1);
  create.set_request_id("has space");
  EXPECT_EQ(stub_->CreateDeal(AuthedContext(rep_).get(), create, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::CreatePipelineRequest pipeline;
  pipeline.mutable_pipeline()->set_display_name("Keyed");
  pipeline.mutable_pipeline()->add_stages()->set_display_name("Only");
  pipeline.set_request_id(std::string(65, 'k'));
  v1::Pipeline made;
  EXPECT_EQ(stub_->CreatePipeline(AuthedContext(admin_).get(), pipeline, &made).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(PipelineServiceTest, AnotherTenantSeesNoneOfItAndCannotTouchIt) {
  v1::Deal deal;
  ASSERT_TRUE(CreateDeal(rep_, NewDeal("Secret", 42), &deal).ok());
  const std::string other = MintToken("other-" + tenant_, "eve", {"admin"});
  v1::GetDealRequest get;
  get.set_name(deal.name());
  v1::Deal out;
  EXPECT_EQ(stub_->GetDeal(AuthedContext(other).get(), get, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ListDealsResponse list;
  ASSERT_TRUE(stub_->ListDeals(AuthedContext(other).get(), v1::ListDealsRequest(), &list).ok());
  EXPECT_EQ(list.deals_size(), 0);
  v1::UpdateDealRequest update;
  update.mutable_deal()->set_name(deal.name());
  update.mutable_deal()->set_next_step("steal");
  EXPECT_EQ(stub_->UpdateDeal(AuthedContext(other).get(), update, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Move(other, deal, DefaultPipeline().stages(2).id(), &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ListStageHistoryRequest history;
  history.set_name(deal.name());
  v1::ListStageHistoryResponse changes;
  EXPECT_EQ(stub_->ListStageHistory(AuthedContext(other).get(), history, &changes).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::DeleteDealRequest del;
  del.set_name(deal.name());
  google::protobuf::Empty empty;
  EXPECT_EQ(stub_->DeleteDeal(AuthedContext(other).get(), del, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::GetPipelineRequest pipeline;
  pipeline.set_name(deal.pipeline());
  v1::Pipeline p;
  EXPECT_EQ(stub_->GetPipeline(AuthedContext(other).get(), pipeline, &p).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Ordering: by amount, largest first, across pages.
  v1::Deal bigger;
  ASSERT_TRUE(CreateDeal(rep_, NewDeal("Bigger", 4200), &bigger).ok());
  ASSERT_TRUE(CreateDeal(rep_, NewDeal("Middle", 420), &bigger).ok());
  v1::ListDealsRequest ordered;
  ordered.set_order_by("amount_minor desc");
  ordered.set_page_size(2);
  std::vector<int64_t> amounts;
  for (int page = 0; page < 5; ++page) {
    v1::ListDealsResponse response;
    grpc::Status listed = stub_->ListDeals(AuthedContext(rep_).get(), ordered, &response);
    ASSERT_TRUE(listed.ok()) << listed.error_message();
    for (const auto& d : response.deals()) amounts.push_back(d.amount().amount_minor());
    if (response.next_page_token().empty()) break;
    ordered.set_page_token(response.next_page_token());
  }
  EXPECT_THAT(amounts, ElementsAre(4200, 420, 42));
  ordered.set_order_by("colour");
  ordered.clear_page_token();
  v1::ListDealsResponse bad;
  EXPECT_EQ(stub_->ListDeals(AuthedContext(rep_).get(), ordered, &bad).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // The owner still has it, and lists it with a filter.
  v1::ListDealsRequest filtered;
  filtered.set_filter("amount_minor = 42 AND currency_code = \"AMD\" AND closed = false");
  ASSERT_TRUE(stub_->ListDeals(AuthedContext(rep_).get(), filtered, &list).ok());
  ASSERT_EQ(list.deals_size(), 1);
  EXPECT_EQ(list.deals(0).name(), deal.name());
}

v1::Product MakeProduct(v1::PipelineService::Stub& stub, const std::string& token,
                        const std::string& sku, v1::BillingType billing, int64_t price,
                        const std::vector<std::string>& complementary = {}) {
  v1::CreateProductRequest request;
  request.mutable_product()->set_sku(sku);
  request.mutable_product()->set_display_name("Product " + sku);
  request.mutable_product()->mutable_list_price()->set_amount_minor(price);
  request.mutable_product()->mutable_list_price()->set_currency_code("AMD");
  request.mutable_product()->set_billing(billing);
  if (billing == v1::BILLING_TYPE_SUBSCRIPTION) request.mutable_product()->set_term_months(1);
  for (const auto& c : complementary) request.mutable_product()->add_complementary_products(c);
  v1::Product product;
  grpc::Status status = stub.CreateProduct(AuthedContext(token).get(), request, &product);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return product;
}

class PipelineProductsTest : public PipelineServiceTest {
 protected:
  // A deal with `product` x quantity, won; returns the won deal.
  v1::Deal WinDealWith(const v1::Product& product, int quantity, const std::string& company = "",
                       const std::string& contract = "", grpc::Status* status = nullptr) {
    v1::Deal deal = NewDeal("Order", 0);
    deal.set_company(company);
    v1::Deal created;
    EXPECT_TRUE(CreateDeal(rep_, deal, &created).ok());
    v1::SetLineItemsRequest items;
    items.set_name(created.name());
    items.set_etag(created.etag());
    v1::LineItem* item = items.add_line_items();
    item->set_product(product.name());
    item->set_quantity(quantity);
    v1::Deal with_items;
    EXPECT_TRUE(stub_->SetLineItems(AuthedContext(rep_).get(), items, &with_items).ok());
    EXPECT_EQ(with_items.amount().amount_minor(), product.list_price().amount_minor() * quantity);
    v1::MoveDealRequest move;
    move.set_name(with_items.name());
    move.set_etag(with_items.etag());
    move.set_stage(DefaultPipeline().stages(8).id());
    if (!contract.empty()) (*move.mutable_contract_numbers())[product.name()] = contract;
    v1::Deal won;
    grpc::Status s = stub_->MoveDeal(AuthedContext(rep_).get(), move, &won);
    if (status != nullptr) *status = s;
    return won;
  }

  std::vector<v1::Purchase> PurchasesOf(const std::string& parent) {
    v1::ListPurchasesRequest request;
    request.set_parent(parent);
    v1::ListPurchasesResponse response;
    EXPECT_TRUE(stub_->ListPurchases(AuthedContext(rep_).get(), request, &response).ok());
    return {response.purchases().begin(), response.purchases().end()};
  }
};

TEST_F(PipelineProductsTest, WonDealsRecordPurchasesWithUniqueContractsUnderConcurrency) {
  const v1::Product plan =
      MakeProduct(*stub_, admin_, "PLAN-" + tenant_, v1::BILLING_TYPE_SUBSCRIPTION, 10'000);
  constexpr int kDeals = 8;
  std::vector<std::thread> threads;
  std::vector<v1::Deal> won(kDeals);
  for (int i = 0; i < kDeals; ++i) {
    threads.emplace_back([&, i] { won[i] = WinDealWith(plan, i + 1); });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> contracts;
  for (const v1::Deal& deal : won) {
    std::vector<v1::Purchase> purchases = PurchasesOf(deal.name());
    ASSERT_EQ(purchases.size(), 1u);
    EXPECT_TRUE(contracts.insert(purchases[0].contract_number()).second);
    EXPECT_FALSE(purchases[0].end_date().empty());
    EXPECT_EQ(purchases[0].billing(), v1::BILLING_TYPE_SUBSCRIPTION);
  }
  EXPECT_EQ(contracts.size(), static_cast<size_t>(kDeals));
  // A given contract number that is taken is refused, and the deal stays open.
  grpc::Status status;
  WinDealWith(plan, 1, "", "CUSTOM-1", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  WinDealWith(plan, 1, "", "CUSTOM-1", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(PipelineProductsTest, RenewalsAreCreatedExactlyOnceAcrossReplicasAndRestarts) {
  const v1::Product plan =
      MakeProduct(*stub_, admin_, "SUB-" + tenant_, v1::BILLING_TYPE_SUBSCRIPTION, 5'000);
  constexpr int kSubscriptions = 12;
  for (int i = 0; i < kSubscriptions; ++i) WinDealWith(plan, 1);
  RenewalJobOptions options;
  options.default_lead_days = 62;  // a one-month term ends within it
  RenewalJob replica_a(*pool_, *store_, *products_, nullptr, options);
  RenewalJob replica_b(*pool_, *store_, *products_, nullptr, options);
  absl::StatusOr<int> a, b;
  std::thread ta([&] { a = replica_a.RunOnce(); });
  std::thread tb([&] { b = replica_b.RunOnce(); });
  ta.join();
  tb.join();
  ASSERT_OK(a);
  ASSERT_OK(b);
  // A restarted replica finds nothing left to do.
  RenewalJob restarted(*pool_, *store_, *products_, nullptr, options);
  auto again = restarted.RunOnce();
  ASSERT_OK(again);
  EXPECT_EQ(*again, 0);

  v1::ListDealsRequest renewals;
  renewals.set_filter("lead_source = \"renewal\"");
  renewals.set_page_size(1000);
  v1::ListDealsResponse response;
  ASSERT_TRUE(stub_->ListDeals(AuthedContext(rep_).get(), renewals, &response).ok());
  // This tenant's renewals: exactly one per subscription.
  EXPECT_EQ(response.deals_size(), kSubscriptions);
  std::set<std::string> names;
  for (const auto& d : response.deals()) {
    EXPECT_TRUE(names.insert(d.display_name()).second) << d.display_name();
    EXPECT_EQ(d.owner(), "alice");
  }
}

TEST_F(PipelineProductsTest, ProductsAndPipelinesComeInPagesNeitherSkippedNorRepeated) {
  for (const char* sku : {"PG-C", "PG-A", "PG-E", "PG-B", "PG-D"}) {
    MakeProduct(*stub_, admin_, sku, v1::BILLING_TYPE_ONE_TIME, 100);
  }
  std::vector<std::string> skus;
  std::string token;
  int pages = 0;
  do {
    v1::ListProductsRequest request;
    request.set_page_size(2);
    request.set_page_token(token);
    v1::ListProductsResponse page;
    ASSERT_TRUE(stub_->ListProducts(AuthedContext(rep_).get(), request, &page).ok());
    EXPECT_LE(page.products_size(), 2);
    for (const auto& p : page.products()) skus.push_back(p.sku());
    token = page.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(skus, (std::vector<std::string>{"PG-A", "PG-B", "PG-C", "PG-D", "PG-E"}));
  // A token is for the query it came from, and sizes are bounded.
  v1::ListProductsRequest first;
  first.set_page_size(2);
  v1::ListProductsResponse page;
  ASSERT_TRUE(stub_->ListProducts(AuthedContext(rep_).get(), first, &page).ok());
  v1::ListPipelinesRequest wrong;
  wrong.set_page_token(page.next_page_token());
  v1::ListPipelinesResponse pipelines;
  EXPECT_EQ(stub_->ListPipelines(AuthedContext(rep_).get(), wrong, &pipelines).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  first.set_page_size(1001);
  EXPECT_EQ(stub_->ListProducts(AuthedContext(rep_).get(), first, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // Pipelines: the default one is on the first page, alone here, with no next page.
  ASSERT_TRUE(stub_->ListPipelines(AuthedContext(rep_).get(), {}, &pipelines).ok());
  EXPECT_EQ(pipelines.pipelines_size(), 1);
  EXPECT_TRUE(pipelines.next_page_token().empty());
}

TEST_F(PipelineProductsTest, CrossSellSuggestsComplementaryProductsNotYetBought) {
  const v1::Product addon =
      MakeProduct(*stub_, admin_, "ADDON-" + tenant_, v1::BILLING_TYPE_ONE_TIME, 900);
  const v1::Product base = MakeProduct(*stub_, admin_, "BASE-" + tenant_, v1::BILLING_TYPE_ONE_TIME,
                                       5'000, {addon.name()});
  MakeProduct(*stub_, admin_, "OTHER-" + tenant_, v1::BILLING_TYPE_ONE_TIME, 100);
  contacts::v1::CreateCompanyRequest company_request;
  company_request.mutable_company()->set_display_name("Buyer " + tenant_);
  contacts::v1::Company company;
  ASSERT_TRUE(contacts_env_->stub()
                  .CreateCompany(AuthedContext(rep_).get(), company_request, &company)
                  .ok());
  WinDealWith(base, 1, company.name());

  v1::SuggestCrossSellRequest request;
  request.set_customer(company.name());
  v1::SuggestCrossSellResponse response;
  ASSERT_TRUE(stub_->SuggestCrossSell(AuthedContext(rep_).get(), request, &response).ok());
  ASSERT_EQ(response.suggestions_size(), 1);
  EXPECT_EQ(response.suggestions(0).product().name(), addon.name());
  EXPECT_THAT(response.suggestions(0).reason(), ::testing::HasSubstr("complements Product BASE"));
  // Once bought, it is no longer suggested.
  WinDealWith(addon, 1, company.name());
  ASSERT_TRUE(stub_->SuggestCrossSell(AuthedContext(rep_).get(), request, &response).ok());
  EXPECT_EQ(response.suggestions_size(), 0);
}

TEST_F(PipelineProductsTest, AnotherTenantCannotReachProductsPurchasesOrPipelines) {
  const v1::Product plan =
      MakeProduct(*stub_, admin_, "ISO-" + tenant_, v1::BILLING_TYPE_ONE_TIME, 100);
  const v1::Deal won = WinDealWith(plan, 1);
  const std::string other = MintToken("other-" + tenant_, "eve", {"admin"});

  v1::ListProductsResponse products;
  ASSERT_TRUE(stub_->ListProducts(AuthedContext(other).get(), {}, &products).ok());
  for (const auto& p : products.products()) EXPECT_NE(p.name(), plan.name());
  v1::UpdateProductRequest update;
  update.mutable_product()->set_name(plan.name());
  update.mutable_product()->set_display_name("stolen");
  update.mutable_update_mask()->add_paths("display_name");
  v1::Product product;
  EXPECT_EQ(stub_->UpdateProduct(AuthedContext(other).get(), update, &product).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ListPurchasesRequest purchases;
  purchases.set_parent(won.name());
  v1::ListPurchasesResponse listed;
  ASSERT_TRUE(stub_->ListPurchases(AuthedContext(other).get(), purchases, &listed).ok());
  EXPECT_EQ(listed.purchases_size(), 0);
  v1::SetLineItemsRequest items;
  items.set_name(won.name());
  v1::Deal deal;
  EXPECT_EQ(stub_->SetLineItems(AuthedContext(other).get(), items, &deal).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::UpdatePipelineRequest pipeline;
  *pipeline.mutable_pipeline() = DefaultPipeline();
  v1::Pipeline updated;
  EXPECT_EQ(stub_->UpdatePipeline(AuthedContext(other).get(), pipeline, &updated).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::SuggestCrossSellRequest cross;
  cross.set_customer("companies/00000000-0000-7000-8000-000000000000");
  v1::SuggestCrossSellResponse suggestions;
  // A customer the caller's tenant does not have is NOT_FOUND, like any other record.
  EXPECT_EQ(stub_->SuggestCrossSell(AuthedContext(other).get(), cross, &suggestions).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(suggestions.suggestions_size(), 0);
  // Reps cannot change the catalog.
  v1::CreateProductRequest create;
  *create.mutable_product() = plan;
  create.mutable_product()->set_sku("REP-" + tenant_);
  EXPECT_EQ(stub_->CreateProduct(AuthedContext(rep_).get(), create, &product).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(PipelineProductsTest, ProductsCarryCustomFieldsApartFromDeals) {
  common::v1::CreateCustomFieldRequest define;
  define.set_parent("objectTypes/product");
  define.mutable_custom_field()->set_key("vendor_code");
  define.mutable_custom_field()->set_label("Vendor code");
  define.mutable_custom_field()->set_type(common::v1::CUSTOM_FIELD_TYPE_TEXT);
  define.mutable_custom_field()->set_unique(true);
  common::v1::CustomFieldDefinition defined;
  grpc::Status status = stub_->CreateCustomField(AuthedContext(admin_).get(), define, &defined);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(defined.name(), "objectTypes/product/customFields/vendor_code");

  v1::CreateProductRequest create;
  create.mutable_product()->set_sku("CF-1");
  create.mutable_product()->set_display_name("Custom");
  create.mutable_product()->mutable_list_price()->set_amount_minor(100);
  create.mutable_product()->mutable_list_price()->set_currency_code("AMD");
  create.mutable_product()->set_billing(v1::BILLING_TYPE_ONE_TIME);
  (*create.mutable_product()->mutable_custom_fields())["vendor_code"].set_text("V-1");
  v1::Product product;
  status = stub_->CreateProduct(AuthedContext(admin_).get(), create, &product);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(product.custom_fields().at("vendor_code").text(), "V-1");
  create.mutable_product()->set_sku("CF-2");
  v1::Product twin;
  status = stub_->CreateProduct(AuthedContext(admin_).get(), create, &twin);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr(product.name()));
  // A product's field is not a deal's.
  v1::Deal deal = NewDeal("Not a product", 1);
  (*deal.mutable_custom_fields())["vendor_code"].set_text("V-9");
  v1::Deal out;
  EXPECT_EQ(CreateDeal(rep_, deal, &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::UpdateProductRequest update;
  update.mutable_product()->set_name(product.name());
  (*update.mutable_product()->mutable_custom_fields())["vendor_code"].set_text("V-2");
  update.mutable_update_mask()->add_paths("custom_fields.vendor_code");
  v1::Product updated;
  status = stub_->UpdateProduct(AuthedContext(admin_).get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.custom_fields().at("vendor_code").text(), "V-2");
  EXPECT_EQ(updated.display_name(), "Custom");  // untouched by the mask
  // The old value is free again.
  status = stub_->CreateProduct(AuthedContext(admin_).get(), create, &twin);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(PipelineProductsTest, AContactsMergeRepointsItsDeals) {
  events::ConsumerOptions options;
  options.name = "pipeline.contacts." + tenant_;
  options.schema = "pipeline";
  options.source_address = absl::StrCat("127.0.0.1:", contacts_env_->grpc_port());
  const events::EventRouter routes = ContactsEvents(*store_);
  options.event_types = routes.types();
  options.token = [] { return crm::testing::MintServiceToken("pipeline"); };
  events::EventConsumer follower(options, *pool_, routes.handler(), nullptr);
  follower.Start();

  const contacts::v1::Contact winner = CreateContact("winner-" + tenant_ + "@x.example");
  const contacts::v1::Contact loser = CreateContact("loser-" + tenant_ + "@x.example");
  v1::Deal deal = NewDeal("Pointing at the loser", 1);
  deal.set_contact(loser.name());
  v1::Deal created;
  ASSERT_TRUE(CreateDeal(rep_, deal, &created).ok());
  contacts::v1::MergeContactsRequest merge;
  merge.set_winner(winner.name());
  merge.set_loser(loser.name());
  contacts::v1::Contact merged;
  ASSERT_TRUE(contacts_env_->stub().MergeContacts(AuthedContext(rep_).get(), merge, &merged).ok());

  v1::GetDealRequest get;
  get.set_name(created.name());
  v1::Deal after;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    ASSERT_TRUE(stub_->GetDeal(AuthedContext(rep_).get(), get, &after).ok());
    if (after.contact() == winner.name()) break;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  follower.Stop();
  EXPECT_EQ(after.contact(), winner.name());
}

TEST_F(PipelineServiceTest, DealsCarryTypedCustomFieldsOfTheirOwn) {
  auto define = [&](const std::string& key, common::v1::CustomFieldType type, bool unique,
                    const std::string& token) {
    common::v1::CreateCustomFieldRequest request;
    request.set_parent("objectTypes/deal");
    request.mutable_custom_field()->set_key(key);
    request.mutable_custom_field()->set_label(key);
    request.mutable_custom_field()->set_type(type);
    request.mutable_custom_field()->set_unique(unique);
    if (type == common::v1::CUSTOM_FIELD_TYPE_NUMBER) request.mutable_custom_field()->set_scale(2);
    common::v1::CustomFieldDefinition out;
    return stub_->CreateCustomField(AuthedContext(token).get(), request, &out);
  };
  EXPECT_EQ(define("arr", common::v1::CUSTOM_FIELD_TYPE_NUMBER, false, rep_).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(define("arr", common::v1::CUSTOM_FIELD_TYPE_NUMBER, false, admin_).ok());
  ASSERT_TRUE(define("erp_id", common::v1::CUSTOM_FIELD_TYPE_TEXT, true, admin_).ok());
  ASSERT_TRUE(define("buyer_phone", common::v1::CUSTOM_FIELD_TYPE_PHONE, false, admin_).ok());
  EXPECT_EQ(define("link", common::v1::CUSTOM_FIELD_TYPE_RELATION, false, admin_).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // a relation names its object first
  {
    common::v1::CreateCustomFieldRequest relation;
    relation.set_parent("objectTypes/deal");
    relation.mutable_custom_field()->set_key("champion");
    relation.mutable_custom_field()->set_label("Champion");
    relation.mutable_custom_field()->set_type(common::v1::CUSTOM_FIELD_TYPE_RELATION);
    relation.mutable_custom_field()->set_relation_object(common::v1::OBJECT_TYPE_CONTACT);
    common::v1::CustomFieldDefinition made;
    grpc::Status made_status =
        stub_->CreateCustomField(AuthedContext(admin_).get(), relation, &made);
    ASSERT_TRUE(made_status.ok()) << made_status.error_message();
  }
  // Contacts' definitions are the contacts service's: the pipeline owns deals only.
  common::v1::ListCustomFieldsRequest list;
  list.set_parent("objectTypes/contact");
  common::v1::ListCustomFieldsResponse listed;
  EXPECT_EQ(stub_->ListCustomFields(AuthedContext(rep_).get(), list, &listed).error_code(),
            grpc::StatusCode::NOT_FOUND);
  list.set_parent("objectTypes/deal");
  ASSERT_TRUE(stub_->ListCustomFields(AuthedContext(rep_).get(), list, &listed).ok());
  EXPECT_EQ(listed.custom_fields_size(), 4);

  // A relation names a contact the caller's tenant has, checked in the contacts service.
  const contacts::v1::Contact champion = CreateContact("champion-" + tenant_ + "@x.example");
  v1::Deal related = NewDeal("Related", 1);
  (*related.mutable_custom_fields())["champion"].set_record(champion.name());
  v1::Deal related_out;
  grpc::Status related_status = CreateDeal(rep_, related, &related_out);
  ASSERT_TRUE(related_status.ok()) << related_status.error_message();
  EXPECT_EQ(related_out.custom_fields().at("champion").record(), champion.name());
  (*related.mutable_custom_fields())["champion"].set_record("contacts/" +
                                                            ids::NewUuidV7());  // no such contact
  related_status = CreateDeal(rep_, related, &related_out);
  EXPECT_EQ(related_status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(related_status.error_message(), ::testing::HasSubstr("deal.custom_fields.champion"));
  // Another tenant cannot point at this tenant's contact.
  const std::string other_rep = MintToken("other-" + tenant_, "eve", {"rep"});
  (*related.mutable_custom_fields())["champion"].set_record(champion.name());
  EXPECT_EQ(CreateDeal(other_rep, related, &related_out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // the other tenant has no such field at all

  v1::Deal deal = NewDeal("Typed", 1000);
  (*deal.mutable_custom_fields())["arr"].set_number("12000.50");
  (*deal.mutable_custom_fields())["erp_id"].set_text("SO-1");
  (*deal.mutable_custom_fields())["buyer_phone"].set_phone("+374 91 234567");
  v1::Deal created;
  grpc::Status status = CreateDeal(rep_, deal, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.custom_fields().at("buyer_phone").phone(), "+37491234567");

  // Wrong types, unknown keys and local phone numbers are refused, naming the field.
  v1::Deal bad = NewDeal("Bad", 1);
  (*bad.mutable_custom_fields())["arr"].set_text("lots");
  v1::Deal out;
  status = CreateDeal(rep_, bad, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("deal.custom_fields.arr"));
  bad.clear_custom_fields();
  (*bad.mutable_custom_fields())["nope"].set_text("x");
  EXPECT_EQ(CreateDeal(rep_, bad, &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad.clear_custom_fields();
  (*bad.mutable_custom_fields())["buyer_phone"].set_phone("091 234567");
  EXPECT_EQ(CreateDeal(rep_, bad, &out).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // A unique value belongs to one deal.
  v1::Deal twin = NewDeal("Twin", 1);
  (*twin.mutable_custom_fields())["erp_id"].set_text("SO-1");
  status = CreateDeal(rep_, twin, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr(created.name()));

  // One field changes by mask; filters read the field by its type.
  v1::UpdateDealRequest update;
  update.mutable_deal()->set_name(created.name());
  (*update.mutable_deal()->mutable_custom_fields())["arr"].set_number("900");
  update.mutable_update_mask()->add_paths("custom_fields.arr");
  v1::Deal updated;
  status = stub_->UpdateDeal(AuthedContext(rep_).get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.custom_fields().at("arr").number(), "900");
  EXPECT_EQ(updated.custom_fields().at("erp_id").text(), "SO-1");
  v1::Deal other;
  ASSERT_TRUE(CreateDeal(rep_, NewDeal("Plain", 5), &other).ok());
  v1::ListDealsRequest filtered;
  filtered.set_filter("custom_fields.arr >= 500 AND custom_fields.erp_id = \"SO-1\"");
  v1::ListDealsResponse page;
  status = stub_->ListDeals(AuthedContext(rep_).get(), filtered, &page);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(page.deals_size(), 1);
  EXPECT_EQ(page.deals(0).name(), created.name());
  // Sorting reads numbers as numbers ("5000" after "900" descending), deals without a value last.
  v1::Deal bigger_in = NewDeal("Bigger", 5);
  (*bigger_in.mutable_custom_fields())["arr"].set_number("5000");
  v1::Deal bigger;
  ASSERT_TRUE(CreateDeal(rep_, bigger_in, &bigger).ok());
  v1::ListDealsRequest sorted;
  sorted.set_order_by("custom_fields.arr desc");
  status = stub_->ListDeals(AuthedContext(rep_).get(), sorted, &page);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(page.deals_size(), 4);
  EXPECT_EQ(page.deals(0).name(), bigger.name());
  EXPECT_EQ(page.deals(1).name(), created.name());
  EXPECT_FALSE(page.deals(2).custom_fields().contains("arr"));
  EXPECT_EQ(page.deals(3).name(), other.name());  // among those without, in creation order
  sorted.set_order_by("custom_fields.nope");
  EXPECT_EQ(stub_->ListDeals(AuthedContext(rep_).get(), sorted, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // Deleting the deal frees its unique value.
  v1::DeleteDealRequest remove;
  remove.set_name(created.name());
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub_->DeleteDeal(AuthedContext(rep_).get(), remove, &empty).ok());
  status = CreateDeal(rep_, twin, &out);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

}  // namespace
}  // namespace crm::pipeline

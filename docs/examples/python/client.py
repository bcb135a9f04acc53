"""Creates a contact and lists open deals over gRPC with stubs generated from proto/.

    docs/examples/python/generate.sh
    TOKEN=... python3 docs/examples/python/client.py
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "gen"))

import grpc  # noqa: E402
from crm.contacts.v1 import contacts_service_pb2, contacts_service_pb2_grpc  # noqa: E402
from crm.pipeline.v1 import pipeline_service_pb2, pipeline_service_pb2_grpc  # noqa: E402

metadata = [("authorization", "Bearer " + os.environ["TOKEN"])]

contacts = contacts_service_pb2_grpc.ContactsServiceStub(grpc.insecure_channel("127.0.0.1:50051"))
request = contacts_service_pb2.CreateContactRequest(request_id="python-example-1")
request.contact.given_name = "Anna"
request.contact.emails.append("anna.python@example.com")
try:
    contact = contacts.CreateContact(request, metadata=metadata, timeout=5)
    print("created", contact.name)
except grpc.RpcError as error:  # ALREADY_EXISTS names the contact holding the email
    print(error.code().name, error.details())

pipeline = pipeline_service_pb2_grpc.PipelineServiceStub(grpc.insecure_channel("127.0.0.1:50052"))
deals = pipeline.ListDeals(pipeline_service_pb2.ListDealsRequest(filter="closed = false"),
                           metadata=metadata, timeout=5)
for deal in deals.deals:
    print(deal.name, deal.display_name, deal.amount.amount_minor, deal.amount.currency_code)

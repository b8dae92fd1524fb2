from tests.support import GraphQLClient


async def test_server_info_answers_anonymously(gql: GraphQLClient) -> None:
    body = await gql("{ serverInfo { version environment } }")
    assert body == {"data": {"serverInfo": {"version": "0.1.0", "environment": "dev"}}}

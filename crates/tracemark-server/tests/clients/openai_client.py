"""The service through OpenAI's own Python client: completions, chat, streaming, the
model list and an authentication error. Prints one JSON object for the Rust test.

Usage: python openai_client.py BASE_URL TOKEN
"""

import json
import sys

import openai
from openai import OpenAI


def main() -> None:
    base, token = sys.argv[1:3]
    client = OpenAI(base_url=f"{base}/v1", api_key=token, max_retries=0)
    model = client.models.list().data[0].id

    completion = client.completions.create(
        model=model, prompt="The harbour at dawn", max_tokens=60, seed=1
    )
    chat = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Tell me about the old lighthouse."}],
        max_tokens=60,
        seed=2,
    )
    # Streaming: the chunks, and the final one's Tracemark object.
    streamed, provenance = [], None
    for chunk in client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "A story about a boat."}],
        max_tokens=60,
        seed=3,
        stream=True,
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            streamed.append(chunk.choices[0].delta.content)
        extra = chunk.model_extra or {}
        provenance = extra.get("tracemark", provenance)

    try:
        OpenAI(base_url=f"{base}/v1", api_key="wrong-token", max_retries=0).completions.create(
            model=model, prompt="x", max_tokens=1
        )
        auth_error = None
    except openai.AuthenticationError as e:
        auth_error = e.status_code

    print(
        json.dumps(
            {
                "model": model,
                "completion": completion.choices[0].text,
                "completion_tokens": completion.usage.completion_tokens,
                "completion_tracemark": (completion.model_extra or {}).get("tracemark"),
                "chat": chat.choices[0].message.content,
                "chat_role": chat.choices[0].message.role,
                "streamed": "".join(streamed),
                "stream_tracemark": provenance,
                "auth_error": auth_error,
            }
        )
    )


if __name__ == "__main__":
    main()

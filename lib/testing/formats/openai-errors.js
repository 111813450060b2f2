'use strict';

// OpenAI's HTTP error body: {"error":{"message","type","param","code"}} (docs/wire-formats.md §10).

const BY_STATUS = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
  401: {
    type: 'invalid_request_error',
    code: 'invalid_api_key',
    message: 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
  },
  403: {
    type: 'invalid_request_error',
    code: 'unsupported_country_region_territory',
    message: 'Country, region, or territory not supported',
  },
  404: {
    type: 'invalid_request_error',
    code: 'model_not_found',
    message: 'The model does not exist or you do not have access to it.',
  },
  429: {
    type: 'requests',
    code: 'rate_limit_exceeded',
    message: 'Rate limit reached for requests. Please try again later.',
  },
  500: {
    type: 'server_error',
    code: null,
    message: 'The server had an error while processing your request. Sorry about that!',
  },
  503: { type: 'server_error', code: null, message: 'The engine is currently overloaded, please try again later.' },
};

function errorBody(status, ctx, message) {
  const known = BY_STATUS[status] || (status >= 500 ? BY_STATUS[500] : BY_STATUS[400]);
  let text = message || known.message;
  if (!message && status === 404 && ctx && ctx.model)
    text = `The model \`${ctx.model}\` does not exist or you do not have access to it.`;
  return {
    contentType: 'application/json; charset=utf-8',
    body: `${JSON.stringify({ error: { message: text, type: known.type, param: null, code: known.code } }, null, 4)}\n`,
  };
}

module.exports = { errorBody };
